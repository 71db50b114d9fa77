"""The ECM family's model settings (Seq2Seq, Emb, ECM and the Table 4 ablations): one schema, ecm_tf/schema.py.

flags.py defines a flag per field; ECMModel takes an EcmSettings; config.json holds the saved ones.
"""

import dataclasses

from ecm_tf.errors import InputError
from ecm_tf.schema import Settings, setting


@dataclasses.dataclass(frozen=True)
class EcmSettings(Settings):
    """Sizes, the three modules, and the paper-vs-original choices (docs/faithfulness.md)."""

    embed_dim: int = setting(100, "Word embedding size (paper: 100).", bounds=(1, None), variables=True)
    hidden: int = setting(256, "GRU units per layer (paper: 256).", bounds=(1, None), variables=True)
    num_layers: int = setting(2, "GRU layers in encoder and decoder (paper: 2).", bounds=(1, None), variables=True)
    emotion_dim: int = setting(100, "Emotion category embedding size (paper: 100).", bounds=(1, None),
                               variables=True)
    use_emb: bool = setting(True, "Emotion category embedding (Emb).", variables=True)
    use_imemory: bool = setting(True, "Internal memory.", variables=True)
    use_ememory: bool = setting(True, "External memory (type-selected split vocabulary).", variables=True)
    # Paper (default) vs original-code behaviour; flags/ecm_code.flags turns all of these to the code side.
    read_gate_inputs: str = setting("paper", "paper: [e(y);s;c] (Eq. 6); code: [e(y);c;v_e;s1;s2].",
                                    choices=("paper", "code"), variables=True)
    write_gate_inputs: str = setting("paper", "paper: top-layer s_t (Eq. 7); code: [s1;s2].",
                                     choices=("paper", "code"), variables=True)
    imemory_layers: str = setting("all", "ResponseGenerator layers that receive M_r (code: first).", choices=("all", "first"),
                                  variables=True)
    gate_bias_init: float = setting(0.0, "Initial bias of the read/write gates (code: 1.0).")
    selector_input: str = setting(
        "state", "Type selector on the decoder state s_t (Eq. 11) or on the attention output projection (code).",
        choices=("state", "output"), variables=True)
    selector_loss: str = setting("paper", "paper: -q log alpha (Eq. 15); bce: full binary cross-entropy.",
                                 choices=("paper", "bce"))
    imemory_norm: str = setting("l2", "Final internal-memory term: ||M|| (paper) or ||M||^2 (code).",
                                choices=("l2", "squared"))
    imemory_decay_padding: bool = setting(False, "Code: memory keeps decaying through padding.")
    reverse_encoder_input: bool = setting(False, "Code: the encoder reads the post reversed.")
    post_embedding_init: str = setting(
        "keras", "Initial post (encoder) embeddings: keras = U(-0.05, 0.05), Keras's default; unit = "
        "U(-sqrt 3, sqrt 3), variance 1 (the default of TF 1.x's legacy seq2seq EmbeddingWrapper): "
        "the encoder sees the post's words from the first step, so a briefly trained model "
        "conditions on the post sooner (flags/quickstart.flags, docs/model.md). Initialisation only.",
        choices=("keras", "unit"), saved=False)
    emotion_embedding_init: str = setting(
        "keras", "Initial emotion embedding (Emb): keras = U(-0.05, 0.05); unit = variance 1, as "
        "--post_embedding_init. Initialisation only.", choices=("keras", "unit"), saved=False)
    attention_mask_pad: bool = setting(True, "Mask PAD encoder positions in attention (code: no mask).")
    selector_loss_weight: float = setting(1.0, "Weight of the type-selector term.", bounds=(0, None))
    imemory_loss_weight: float = setting(1.0, "Weight of the internal-memory term.", bounds=(0, None))
    # --- faithfulness to the original release (added later: `legacy` is how earlier folders were trained)
    loss_average: str = setting(
        "response", "Loss normalisation: response = mean over each response's tokens, then over the batch "
        "(the original); token = one mean over all target tokens of the batch.",
        choices=("response", "token"), legacy="token")
    bucket_lengths: str = setting(
        "original", "original: a pair is in the first bucket with length < size and a post in bucket D gets "
        "at most D - 1 response tokens (EOS included), as the original; inclusive: length <= "
        "size and D tokens.", choices=("original", "inclusive"), legacy="inclusive")
    encoder_input: str = setting(
        "paper", "paper: natural order, PAD masked; reversed: reversed within the length, PAD masked; code: "
        "the original, the post left-padded then reversed and the GRU run over the PAD embeddings first "
        "(--reverse_encoder_input is read as reversed).", choices=("paper", "reversed", "code"), legacy="paper")
    gru_cell: str = setting(
        "paper", "code: TF 0.12 GRUCell semantics in encoder and decoder (reset applied before the matmul, "
        "reset/update gate biases initialised to 1.0).", choices=("paper", "code"), variables=True, legacy="paper")
    attention_query_bias: bool = setting(False, "Code: the attention's query projection has a bias.", variables=True,
                                         legacy=False)
    imemory_gate_bias: bool = setting(
        False, "Code: the internal-memory read/write gates have a bias (--gate_bias_init); Eq. 6-7 have none.",
        variables=True, legacy=True)
    output_features: str = setting(
        "state", "state: softmax(W_o s_t) (Eq. 4); projection: W_o W_p [s_t; c'] (the original's output projection).",
        choices=("state", "projection"), variables=True, legacy="projection")

    def __post_init__(self):
        super().__post_init__()
        if self.gate_bias_init != 0.0 and not self.imemory_gate_bias and self.use_imemory:
            raise InputError(f"--gate_bias_init={self.gate_bias_init}: the read/write gates have no bias "
                             f"(paper Eq. 6-7); add --imemory_gate_bias for the original's biased gates")

    @property
    def encoder_mode(self):
        """--encoder_input, with the older --reverse_encoder_input read as "reversed"."""
        if self.encoder_input == "paper" and self.reverse_encoder_input:
            return "reversed"
        return self.encoder_input
