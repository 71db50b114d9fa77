"""`--mode=decode`: responses of a trained model for posts x emotions, as JSON lines.

    python -m ecm_tf.main --mode=decode --model_dir=runs/builtin/ecm --input=posts.txt \
        --emotion=all --output=runs/builtin/decode.jsonl

--input: one post per line, raw (segmented with jieba) or space-segmented; empty = stdin.
Each output line: {"post", "emotion", "response", "score", "responses": [{"response", "score"}]}
with the top_k candidates best first ("response"/"score" repeat the best). Responses are
space-joined tokens. The beam search follows the original code (decoding/beam_search.py); the
maximum response length is the post's bucket size D less the --bucket_lengths offset (the original:
D - 1 tokens, EOS included) unless --max_decode_len is set.
"""

import json
import os
import sys

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.decoding.decoder import Decoder, emotion_list, post_tokens
from ecm_tf.errors import InputError


def model_config(cfg):
    """cfg with the model settings saved in cfg.model_dir (InputError when it is not a model folder)."""
    if not os.path.isdir(cfg.model_dir):
        raise InputError(f"--model_dir={cfg.model_dir}: no such folder (train a model with --mode=train)")
    return config.load_model_config(cfg)


def load_decoder(cfg):
    """(Decoder, model cfg) for cfg.model_dir: settings from its config.json, weights from its checkpoint."""
    from ecm_tf.models import ecm_model

    model, model_cfg, prefix = ecm_model.load(model_config(cfg), cfg.model_dir)
    print(f"loaded {checkpoints.describe(prefix)}", file=sys.stderr, flush=True)
    post_vocab, response_vocab = vocab_lib.load_pair(model_cfg.data_dir, flag="--data_dir")
    return Decoder(model, model_cfg, post_vocab, response_vocab), model_cfg


def read_posts(path):
    """[(where, text)] of the non-blank lines of `path` (stdin when empty)."""
    if path:
        lines = io_utils.read_lines(path)
        name = path
    else:
        lines = io_utils.stdin().read().splitlines()
        name = "<stdin>"
    posts = [(f"{name}:{i}", line.strip()) for i, line in enumerate(lines, 1) if line.strip()]
    if not posts:
        raise InputError(f"--input={path or '-'}: no posts (one post per line)")
    return posts


def records(token_lists, plan, results):
    """JSON-able dicts in input order: per post, its (emotion id, extra fields) of `plan`."""
    for i, tokens in enumerate(token_lists):
        for e, extra in plan[i]:
            cands = results[(i, e)]
            best_text, best_score = (" ".join(cands[0][0]), cands[0][1]) if cands else ("", float("-inf"))
            yield {"post": " ".join(tokens), "emotion": emotions.NAMES[e], **extra, "response": best_text,
                   "score": round(best_score, 4),
                   "responses": [{"response": " ".join(t), "score": round(s, 4)} for t, s in cands]}


def is_auto(value):
    return str(value).strip().lower() == "auto"


def plan_emotions(cfg, token_lists, data_dir):
    """Per post, [(emotion id, extra record fields)]: --emotion's list for every post, or with
    --emotion=auto the chosen emotions, with the detected post emotion named."""
    if not is_auto(cfg.emotion):
        emotion_ids = emotion_list(cfg.emotion)
        return [[(e, {}) for e in emotion_ids] for _ in token_lists]
    from ecm_tf.classifier.auto_emotion import AutoEmotion

    chooser = AutoEmotion.load(cfg.classifier_dir, data_dir, cfg.auto_emotion_top_k)
    return [[(e, {"post_emotion": emotions.NAMES[post_e], "emotion_choice": "auto"}) for e in chosen]
            for post_e, chosen in chooser.choose(token_lists)]


def _progress(done, total):
    sys.stderr.write(f"\rdecoded {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run(cfg):
    if config.saved_model_family(cfg.model_dir) in ("cerg", "pe2r"):
        from ecm_tf.cerg import decode as cerg_decode

        return cerg_decode.run(cfg)
    if not is_auto(cfg.emotion):
        emotion_list(cfg.emotion)  # a bad --emotion fails before anything is loaded
    posts = read_posts(cfg.input)
    settings = model_config(cfg)
    token_lists = [post_tokens(text, settings, where) for where, text in posts]
    decoder, model_cfg = load_decoder(cfg)
    plan = plan_emotions(cfg, token_lists, model_cfg.data_dir)
    jobs = [(i, e) for i, row in enumerate(plan) for e, _ in row]
    results = decoder.decode_pairs(token_lists, jobs, progress=_progress if cfg.output else None)
    lines = [json.dumps(r, ensure_ascii=False) for r in records(token_lists, plan, results)]
    if cfg.output:
        with io_utils.atomic_open(cfg.output) as f:
            f.write("\n".join(lines) + "\n")
        model_cfg.save(os.path.dirname(os.path.abspath(cfg.output)), os.path.basename(cfg.output) + ".config.json")
        per_post = "auto" if is_auto(cfg.emotion) else len(plan[0])
        print(f"{len(lines)} responses ({len(posts)} posts x {per_post} emotions) -> {cfg.output}")
    else:
        print("\n".join(lines))
