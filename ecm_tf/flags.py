"""Every command-line flag of ecm_tf, defined in this one module.

Flag files under flags/ hold one published setting each (`--flagfile=flags/ecm_paper.flags`).
After parsing, `settings()` freezes the values into a Config; nothing
changes a setting after that.
"""

from absl import flags

from ecm_tf import config
from ecm_tf.models import registry

MODES = (
    "prep", "train_classifier", "classify", "annotate", "interaction",
    "train", "decode", "eval", "eval_sheet", "eval_score", "cecg_sheet", "cecg_score", "export", "client", "chat", "web",
)

# --- general -----------------------------------------------------------------------------
flags.DEFINE_enum("mode", "prep", MODES, "What to run.")
flags.DEFINE_string("input", "", "Input file(s), comma separated. Empty with --mode=prep: the built-in default corpus.")
flags.DEFINE_enum("input_format", "auto", ["auto", "ecm", "pairs", "tsv", "lccc", "nlpcc_xml", "lines", "cped"],
                  "Format of --input; auto guesses from the file.")
flags.DEFINE_string("output", "", "Output file (classify, annotate, decode, eval_sheet).")
flags.DEFINE_string("output_dir", "runs/builtin/data", "Output folder of --mode=prep.")
flags.DEFINE_string("data_dir", "runs/builtin/data", "Folder written by --mode=prep (TFRecords, vocab, ememory).")
flags.DEFINE_string("model_dir", "runs/builtin/ecm", "Checkpoints, config.json and TensorBoard logs.")
flags.DEFINE_string("export_dir", "", "SavedModel output folder of --mode=export.")
flags.DEFINE_integer("seed", 1234, "Random seed.")
flags.DEFINE_integer("log_every", 50, "Steps between progress lines.")

# --- data preparation ----------------------------------------------------------------------
flags.DEFINE_string("dev_input", "", "Optional dev-set file(s) for --mode=prep (uses the train vocabulary).")
flags.DEFINE_string("test_input", "", "Optional test-set file(s) for --mode=prep (uses the train vocabulary).")
flags.DEFINE_float("dev_fraction", 0.05, "Share of --input held out as dev when --dev_input is empty.")
flags.DEFINE_string("vocab_dir", "", "Reuse the vocabulary and ememory mask from this prep folder.")
flags.DEFINE_integer("vocab_size", 40000, "Post and response vocabulary sizes, _PAD/_UNK/_EOS/_GO included.")
flags.DEFINE_integer("max_post_len", 30, "Keep a pair when post tokens < this (paper: 30).")
flags.DEFINE_integer("max_response_len", 30, "Keep a pair when response tokens + EOS < this (paper: 30).")
flags.DEFINE_integer("num_shards", 4, "TFRecord shards per split.")
flags.DEFINE_enum("token_level", "word", ["word", "char"], "word: jieba segmentation (ECM); char: characters (CERG).")
flags.DEFINE_string("ememory_words", "", "Optional JSON file with six word lists (ECM release format); default: DUTIR lexicon.")
# CPED reader (ecm_tf/data/cped.py)
flags.DEFINE_boolean("cped_speaker_change", False, "--input_format=cped: only adjacent pairs with a change of speaker.")
flags.DEFINE_string("cped_emotion_map", "", "--input_format=cped: overrides of the 13 -> 6 mapping, e.g. relaxed=Other,positive-other=Other.")
flags.DEFINE_string("label_source", "auto", "Emotion labels for unlabelled input: auto (file labels, else lexicon classifier) or a classifier dir.")

# --- input pipeline -----------------------------------------------------------------------
flags.DEFINE_integer("batch_size", 128, "Training batch size (paper: 128).")
flags.DEFINE_list("bucket_boundaries", ["12", "16", "20"], "Length-bucket boundaries (original buckets 12,16,20,30).")
flags.DEFINE_enum("batching", "mixed", ["mixed", "single_emotion"],
                  "mixed: any emotions per batch; single_emotion: the original code's class-balanced batches.")
flags.DEFINE_integer("shuffle_buffer", 10000, "Shuffle buffer size.")

# --- emotion classifier --------------------------------------------------------------------
flags.DEFINE_enum("classifier", "bilstm", ["lexicon", "rnn", "lstm", "bilstm"], "Classifier of ECM Table 2.")
flags.DEFINE_string("classifier_dir", "runs/builtin/classifier", "Trained classifier folder (used by eval, annotate).")
flags.DEFINE_integer("clf_vocab_size", 30000, "Classifier vocabulary size.")
flags.DEFINE_integer("clf_embed_dim", 100, "Classifier word embedding size.")
flags.DEFINE_integer("clf_hidden", 128, "Classifier recurrent units.")
flags.DEFINE_integer("clf_epochs", 8, "Classifier training epochs.")
flags.DEFINE_integer("clf_batch_size", 64, "Classifier batch size.")
flags.DEFINE_float("clf_learning_rate", 1e-3, "Classifier Adam learning rate.")
flags.DEFINE_enum("class_weighting", "none", ["balanced", "none"], "Loss weights against class imbalance (none: the best measured, docs/classifiers.md).")
flags.DEFINE_float("clf_dev_fraction", 0.1, "Held-out dev share of the classifier data (8:1:1 split).")
flags.DEFINE_float("clf_test_fraction", 0.1, "Held-out test share of the classifier data.")
flags.DEFINE_integer("clf_max_len", 64, "Classifier input tokens kept per sentence.")
flags.DEFINE_integer("clf_min_count", 2, "Words seen fewer times in the classifier train split are UNK.")
flags.DEFINE_float("clf_dropout", 0.3, "Classifier dropout on embeddings and the sentence vector.")
# the judge: extra train-split data (deduplicated against dev/test) and agreement with CPED's human labels
flags.DEFINE_string("clf_extra_train", "", "Extra classifier train sentences: .tsv label<TAB>text (silver), .csv CPED, .xml NLPCC; comma separated.")
flags.DEFINE_string("clf_agreement_input", "", "CPED CSV(s): report the classifier's agreement with their human labels.")
flags.DEFINE_enum("clf_select", "macro_f1", ["macro_f1", "accuracy"], "Dev metric that picks the classifier epoch.")

# --- model: the ECM family ----------------------------------------------------------------
flags.DEFINE_enum("model", "ecm", list(registry.NAMES), "Model family (models/registry.py).")
flags.DEFINE_integer("embed_dim", 100, "Word embedding size (paper: 100).")
flags.DEFINE_integer("hidden", 256, "GRU units per layer (paper: 256).")
flags.DEFINE_integer("num_layers", 2, "GRU layers in encoder and decoder (paper: 2).")
flags.DEFINE_integer("emotion_dim", 100, "Emotion category embedding size (paper: 100).")
flags.DEFINE_boolean("use_emb", True, "Emotion category embedding (Emb).")
flags.DEFINE_boolean("use_imemory", True, "Internal memory.")
flags.DEFINE_boolean("use_ememory", True, "External memory (type-selected split vocabulary).")
# Paper (default) vs original-code behaviour; flags/ecm_code.flags turns all of these to the code side.
flags.DEFINE_enum("read_gate_inputs", "paper", ["paper", "code"],
                  "paper: [e(y);s;c] (Eq. 6); code: [e(y);c;v_e;s1;s2].")
flags.DEFINE_enum("write_gate_inputs", "paper", ["paper", "code"], "paper: top-layer s_t (Eq. 7); code: [s1;s2].")
flags.DEFINE_enum("imemory_layers", "all", ["all", "first"], "Decoder layers that receive M_r (code: first).")
flags.DEFINE_float("gate_bias_init", 0.0, "Initial bias of the read/write gates (code: 1.0).")
flags.DEFINE_enum("selector_input", "state", ["state", "output"],
                  "Type selector on the decoder state s_t (Eq. 11) or on the attention output projection (code).")
flags.DEFINE_enum("selector_loss", "paper", ["paper", "bce"], "paper: -q log alpha (Eq. 15); bce: full binary cross-entropy.")
flags.DEFINE_enum("imemory_norm", "l2", ["l2", "squared"], "Final internal-memory term: ||M|| (paper) or ||M||^2 (code).")
flags.DEFINE_boolean("imemory_decay_padding", False, "Code: memory keeps decaying through padding.")
flags.DEFINE_boolean("reverse_encoder_input", False, "Code: the encoder reads the post reversed.")
flags.DEFINE_enum("post_embedding_init", "keras", ["keras", "unit"],
                  "Initial post (encoder) embeddings: keras = U(-0.05, 0.05), Keras's default; unit = "
                  "U(-sqrt 3, sqrt 3), variance 1 (the default of TF 1.x's legacy seq2seq EmbeddingWrapper): "
                  "the encoder sees the post's words from the first step, so a briefly trained model "
                  "conditions on the post sooner (flags/quickstart.flags, docs/model.md). Initialisation only.")
flags.DEFINE_enum("emotion_embedding_init", "keras", ["keras", "unit"],
                  "Initial emotion embedding (Emb): keras = U(-0.05, 0.05); unit = variance 1, as --post_embedding_init.")
flags.DEFINE_boolean("attention_mask_pad", True, "Mask PAD encoder positions in attention (code: no mask).")
flags.DEFINE_float("selector_loss_weight", 1.0, "Weight of the type-selector term.")
flags.DEFINE_float("imemory_loss_weight", 1.0, "Weight of the internal-memory term.")

# --- training -----------------------------------------------------------------------------
flags.DEFINE_float("learning_rate", 0.5, "SGD learning rate (paper: 0.5).")
flags.DEFINE_float("lr_decay", 0.99, "Plateau decay factor.")
flags.DEFINE_integer("lr_decay_window", 1000, "Steps per plateau-decay window.")
flags.DEFINE_float("clip_norm", 5.0, "Global-norm gradient clip.")
flags.DEFINE_integer("max_steps", 100000, "Training steps.")
flags.DEFINE_integer("steps_per_checkpoint", 1000, "Steps between checkpoints.")
flags.DEFINE_integer("steps_per_eval", 1000, "Steps between dev perplexity evaluations (0: none).")
flags.DEFINE_integer("keep_checkpoints", 3, "Checkpoints kept by the CheckpointManager.")
flags.DEFINE_string("init_from", "", "Seq2Seq checkpoint (dir or prefix) to initialise shared variables from.")
flags.DEFINE_string("pretrained_embeddings", "", "Word-vector text file (word v1 ... vd) for the embeddings.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"], "tf.distribute strategy.")
flags.DEFINE_boolean("jit_compile", True, "XLA-compile the training step.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "--mode=train of the ECM family: float32, or mixed_bfloat16 (matmuls in bfloat16, variables, "
                  "recurrent state, softmaxes and losses in float32; checkpoints are the same either way). On a "
                  "CPU, bfloat16 pays off with --nojit_compile only (docs/model.md). Decoding and export run in float32.")

# --- decoding, evaluation, serving ---------------------------------------------------------
flags.DEFINE_enum("decoder", "beam", ["beam", "greedy"], "Decoding algorithm.")
flags.DEFINE_integer("beam_size", 20, "Beam width (paper: 20).")
flags.DEFINE_integer("top_k", 5, "Responses returned per post and emotion.")
flags.DEFINE_integer("max_decode_len", 0, "Maximum response length; 0 = the bucket size of the post, as the original.")
flags.DEFINE_integer("min_decode_len", 1,
                     "EOS is not chosen before this many response tokens (ECM family, beam and greedy, "
                     "decode/chat/eval/export). 1 (default): only the empty response is ruled out, otherwise "
                     "the original's search; 2 or more keeps a briefly trained ECM from answering with one "
                     "emotion word (docs/serving.md). Fixed in the graph by --mode=export.")
flags.DEFINE_string("emotion", "all", "Emotion name(s) to generate, comma separated, 'all' (Like..Happy), or 'auto' "
                    "(chosen from the post's emotion and the training data's emotion interactions).")
flags.DEFINE_integer("auto_emotion_top_k", 1, "--emotion=auto: response emotions per post (the most frequent k).")
flags.DEFINE_enum("decode_format", "jsonl", ["jsonl", "tsv"],
                  "--mode=decode output: jsonl (the family's records) or tsv (post<TAB>emotion<TAB>response).")
flags.DEFINE_integer("num_posts", 200, "Posts sampled for an evaluation sheet (paper: 200).")
flags.DEFINE_integer("eval_posts", 0, "--mode=eval: distinct posts decoded (seeded sample; 0 = all of the split).")
flags.DEFINE_list("systems", [], "Decode outputs (JSON lines of --mode=decode), one per system, for --mode=eval_sheet.")
flags.DEFINE_list("sheets", [], "Filled annotation sheets (CSV) for --mode=eval_score or --mode=cecg_score.")
flags.DEFINE_string("server_url", "http://localhost:8501/v1/models/ecm:predict",
                    "TF Serving endpoint for --mode=client: REST http(s)://HOST:8501/v1/models/MODEL:predict "
                    "or gRPC grpc://HOST:8500/MODEL.")
flags.DEFINE_string("host", "127.0.0.1", "--mode=web: the address the chat page listens on (0.0.0.0: every interface).")
flags.DEFINE_integer("port", 8080, "--mode=web: the chat page's port (0: any free one).")
flags.DEFINE_enum("rest_format", "inputs", ["inputs", "instances"],
                  "REST predict body of --mode=client: columnar 'inputs' or row 'instances'.")
flags.DEFINE_float("server_timeout", 60.0, "Seconds --mode=client and --mode=web wait for TF Serving's answer.")

# --- CERG and P&E2R ------------------------------------------------------------------------
flags.DEFINE_integer("cerg_layers", 12, "Transformer blocks (paper: 12).")
flags.DEFINE_integer("cerg_hidden", 768, "Transformer hidden size (paper: 768).")
flags.DEFINE_integer("cerg_heads", 12, "Attention heads.")
flags.DEFINE_integer("cerg_max_chars", 32, "Max characters of post and of response (paper: 32).")
flags.DEFINE_float("replace_rate", 0.05, "Final character-replacement rate (paper: 5%).")
flags.DEFINE_integer("replace_ramp_steps", 10000, "Steps over which the replacement rate ramps up.")
flags.DEFINE_integer("retrieval_k", 2, "BM25 neighbours used to rerank (paper: 2).")
flags.DEFINE_float("retrieval_weight", 1.0, "Weight of the retrieval similarity in the rerank score.")
flags.DEFINE_boolean("no_retrieval", False, "Ablation: beam search only, no BM25 rerank.")
flags.DEFINE_float("cerg_dropout", 0.1, "Dropout of the CERG transformer (and its substitute masked LM).")

FLAGS = flags.FLAGS

# --- faithfulness to the original release ---------------------------------------------------
flags.DEFINE_enum("loss_average", "response", ["response", "token"],
                  "Loss normalisation: response = mean over each response's tokens, then over the batch "
                  "(the original); token = one mean over all target tokens of the batch.")
flags.DEFINE_enum("pe2r_cell", "lstm", ["lstm", "gru"],
                  "Recurrent cell of the P&E2R baseline (CERG paper: LSTM); saved in config.json.")
flags.DEFINE_enum("bucket_lengths", "original", ["original", "inclusive"],
                  "original: a pair is in the first bucket with length < size and a post in bucket D gets "
                  "at most D - 1 response tokens (EOS included), as the original; inclusive: length <= "
                  "size and D tokens.")
flags.DEFINE_enum("encoder_input", "paper", ["paper", "reversed", "code"],
                  "paper: natural order, PAD masked; reversed: reversed within the length, PAD masked; code: "
                  "the original, the post left-padded then reversed and the GRU run over the PAD embeddings first "
                  "(--reverse_encoder_input is read as reversed).")
flags.DEFINE_enum("gru_cell", "paper", ["paper", "code"],
                  "code: TF 0.12 GRUCell semantics in encoder and decoder (reset applied before the matmul, "
                  "reset/update gate biases initialised to 1.0).")
flags.DEFINE_boolean("attention_query_bias", False, "Code: the attention's query projection has a bias.")
flags.DEFINE_boolean("imemory_gate_bias", False,
                     "Code: the internal-memory read/write gates have a bias (--gate_bias_init); Eq. 6-7 have none.")
flags.DEFINE_enum("output_features", "state", ["state", "projection"],
                  "state: softmax(W_o s_t) (Eq. 4); projection: W_o W_p [s_t; c'] (the original's output projection).")



def defined_names():
    """Names of the flags this module defines (not absl's own)."""
    return sorted(f.name for f in FLAGS.get_flags_for_module(__name__))


def settings():
    """The parsed flags as a frozen Config (called once, after parsing, by main.py)."""
    names = defined_names()
    return config.Config({n: FLAGS[n].value for n in names}, [n for n in names if FLAGS[n].present])


def defaults():
    """The flag defaults as a Config, without parsing a command line (for tests and library use)."""
    return config.Config({n: FLAGS[n].default for n in defined_names()})


# --- checked at parse time: a bad value ends with one line naming the flag, before anything runs --
# name -> (lowest, highest) allowed; None = unbounded; "<1" = below 1 (a fraction).
BOUNDS = {
    "log_every": (1, None), "dev_fraction": (0, "<1"), "vocab_size": (5, None), "max_post_len": (2, None),
    "max_response_len": (2, None), "num_shards": (1, None), "batch_size": (1, None), "shuffle_buffer": (1, None),
    "clf_vocab_size": (3, None), "clf_embed_dim": (1, None), "clf_hidden": (1, None), "clf_epochs": (1, None),
    "clf_batch_size": (1, None), "clf_learning_rate": ("<0", None), "clf_dev_fraction": (0, "<1"),
    "clf_test_fraction": (0, "<1"), "clf_max_len": (1, None), "clf_min_count": (1, None),
    "clf_dropout": (0, "<1"), "embed_dim": (1, None), "hidden": (1, None), "num_layers": (1, None),
    "emotion_dim": (1, None), "selector_loss_weight": (0, None), "imemory_loss_weight": (0, None),
    "learning_rate": ("<0", None), "lr_decay": ("<0", 1), "lr_decay_window": (1, None), "clip_norm": ("<0", None),
    "max_steps": (0, None), "steps_per_checkpoint": (1, None), "steps_per_eval": (0, None),
    "keep_checkpoints": (1, None), "beam_size": (1, None), "top_k": (1, None), "port": (0, 65535),
    "max_decode_len": (0, None), "min_decode_len": (1, None), "server_timeout": ("<0", None),
    "num_posts": (1, None), "auto_emotion_top_k": (1, 5), "eval_posts": (0, None), "cerg_layers": (1, None), "cerg_hidden": (1, None),
    "cerg_heads": (1, None), "cerg_max_chars": (1, None), "replace_rate": (0, 1), "replace_ramp_steps": (0, None),
    "retrieval_k": (0, None), "retrieval_weight": (0, None), "cerg_dropout": (0, "<1"),
}
# Paths that must exist when given (comma-separated lists for the list-valued ones).
INPUT_FILES = ("input", "dev_input", "test_input", "ememory_words", "pretrained_embeddings", "systems", "sheets")
INPUT_FOLDERS = ("vocab_dir",)


def _range_validator(name, low, high):
    def check(value):
        if value is None:
            return True
        ok_low = low is None or (value > 0 if low == "<0" else value >= low)
        ok_high = high is None or (value < 1 if high == "<1" else value <= high)
        if not (ok_low and ok_high):
            lo = "> 0" if low == "<0" else (f">= {low}" if low is not None else "")
            hi = "< 1" if high == "<1" else (f"<= {high}" if high is not None else "")
            raise flags.ValidationError(f"must be {' and '.join(p for p in (lo, hi) if p)}")
        return True
    return check


def _paths(value):
    if not value:
        return []
    return [p.strip() for p in (value if isinstance(value, list) else str(value).split(",")) if p.strip()]


def _file_validator(value):
    import os

    for path in _paths(value):
        if path == "-":
            continue
        if os.path.isdir(path):
            raise flags.ValidationError(f"{path} is a folder; expected a file")
        if not os.path.exists(path):
            raise flags.ValidationError(f"{path}: no such file")
    return True


def _folder_validator(value):
    import os

    for path in _paths(value):
        if not os.path.isdir(path):
            raise flags.ValidationError(f"{path}: no such folder")
    return True


def _bucket_validator(value):
    for v in value or []:
        if not str(v).strip().isdigit() or int(v) < 1:
            raise flags.ValidationError(f"{v!r} is not a positive integer (lengths such as 12,16,20)")
    return True


for _name, (_low, _high) in BOUNDS.items():
    flags.register_validator(_name, _range_validator(_name, _low, _high))
for _name in INPUT_FILES:
    flags.register_validator(_name, _file_validator)
for _name in INPUT_FOLDERS:
    flags.register_validator(_name, _folder_validator)
flags.register_validator("bucket_boundaries", _bucket_validator)


def _precision_validator(values):
    if values["precision"] != "float32" and (values["mode"] != "train" or values["model"] != "ecm"):
        raise flags.ValidationError(f"--precision={values['precision']} applies to --mode=train --model=ecm only "
                                    f"(decoding, evaluation and export run in float32)")
    return True


flags.register_multi_flags_validator(["precision", "mode", "model"], _precision_validator)


def _output_file_validator(value):
    import os

    if value and os.path.isdir(value):
        raise flags.ValidationError(f"{value} is a folder; expected a file")
    return True


def _decode_lengths_validator(values):
    low, high = values["min_decode_len"], values["max_decode_len"]
    if high and low is not None and low > high:
        raise flags.ValidationError(f"--min_decode_len={low} is more than --max_decode_len={high}; "
                                    f"lower --min_decode_len or raise --max_decode_len")
    return True


flags.register_validator("output", _output_file_validator)
flags.register_multi_flags_validator(["min_decode_len", "max_decode_len"], _decode_lengths_validator)
