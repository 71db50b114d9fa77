"""`--mode=decode`: responses of a trained model (any family) for posts x emotions, as JSON lines.

    python -m ecm_tf.main --mode=decode --model_dir=runs/builtin/ecm --input=posts.txt \
        --emotion=all --output=runs/builtin/decode.jsonl

--input: one post per line (raw, or space-segmented for word-level models); empty = stdin. A
corpus file is read for its posts when --input_format names its format (ecm, pairs, tsv, lccc, ...).
--emotion: names or ids, `all` (Like..Happy), or `auto` (the response emotion chosen from the
post's, classifier/auto_emotion.py; the record then names the detected post emotion).
A post the model cannot read (empty once URLs and @mentions are removed) gets a warning on stderr
and an empty response (its record says why under "skipped"); the other posts are decoded.
Each output line (--decode_format=jsonl, the default; tsv: post<TAB>emotion<TAB>response) is the family's record (models/family.py): {"post", "emotion", "response", ...}
with the ranked candidates (ECM: "score" and "responses" [{"response", "score"}], the top_k
best first; CERG / P&E2R: "candidates" and the BM25 "retrieved" responses). ECM's beam search
follows the original code (samplers/beam_search.py); its maximum response length is the post's
bucket size D less the --bucket_lengths offset (the original: D - 1 tokens, EOS included) unless
--max_decode_len is set.
"""

import json
import os
import sys

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import readers
from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError
from ecm_tf.models import registry

# --input_format values read as one post a line.
LINE_FORMATS = ("auto", "lines")


def read_posts(path, input_format="auto", reader_options=None):
    """[(where, text)] of the non-blank lines of `path` (stdin when empty), or the posts of a corpus
    file when `input_format` names a corpus format."""
    if path and input_format not in LINE_FORMATS:
        posts = []
        for one in [p.strip() for p in path.split(",") if p.strip()]:
            posts += [(f"{one}:{i}", p.post or p.response) for i, p in enumerate(readers.read_corpus(one, input_format, **(reader_options or {})), 1)]
        posts = [(w, t) for w, t in posts if t.strip()]
    elif path:
        posts = [(f"{path}:{i}", line.strip()) for i, line in enumerate(io_utils.read_lines(path), 1) if line.strip()]
    else:
        lines = io_utils.stdin().read().splitlines()
        posts = [(f"<stdin>:{i}", line.strip()) for i, line in enumerate(lines, 1) if line.strip()]
    if not posts:
        raise InputError(f"--input={path or '-'}: no posts (one post per line)")
    return posts


def is_auto(value):
    return str(value).strip().lower() == "auto"


def emotion_list(value):
    """--emotion value -> ids; Other (0) is allowed when named explicitly."""
    ids = emotions.parse_emotion_list(value)
    if not ids:
        raise InputError("--emotion: empty (give a name such as Happy, a list, or all)")
    return ids


def plan_emotions(cfg, texts, data_dir):
    """Per post, [(emotion id, extra record fields)]: --emotion's list for every post, or with
    --emotion=auto the chosen emotions, with the detected post emotion named."""
    if not is_auto(cfg.emotion):
        emotion_ids = emotion_list(cfg.emotion)
        return [[(e, {}) for e in emotion_ids] for _ in texts]
    from ecm_tf.classifier.auto_emotion import AutoEmotion

    chooser = AutoEmotion.load(cfg.classifier_dir, data_dir, cfg.auto_emotion_top_k)
    return [[(e, {"post_emotion": emotions.NAMES[post_e], "emotion_choice": "auto"}) for e in chosen]
            for post_e, chosen in chooser.choose([text_lib.segment(t) for t in texts])]


def _progress(done, total):
    sys.stderr.write(f"\rdecoded {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def decode(cfg, posts, family, saved, predictor=None):
    """(records in input order, posts x emotions note) for [(where, text)] `posts`."""
    settings = family.model_settings(cfg, saved)
    prepared, skipped = [], {}
    for i, (where, text) in enumerate(posts):
        try:
            prepared.append(family.prepare_post(settings, text, where))
        except InputError as e:  # e.g. a post that is only a URL: the others go on
            sys.stderr.write(f"warning: {e}; answered with an empty response\n")
            prepared.append(None)
            skipped[i] = str(e).rpartition(": ")[2]
    predictor = predictor or family.load(cfg, cfg.model_dir, saved)
    plan = plan_emotions(cfg, [text for _, text in posts], predictor.data_dir)
    jobs = [(i, e, extra) for i, row in enumerate(plan) for e, extra in row]
    per_post = "auto" if is_auto(cfg.emotion) else len(plan[0])
    print(f"decode: {len(posts)} posts x {per_post} emotions, {predictor.search}", file=sys.stderr, flush=True)
    todo = [job for job in jobs if job[0] not in skipped]
    records = iter(predictor.predict([prepared[i] for i, _, _ in todo], [e for _, e, _ in todo],
                                     progress=_progress if cfg.output else None) if todo else [])
    out = []
    for i, e, extra in jobs:
        if i in skipped:
            out.append({"post": posts[i][1], "emotion": emotions.NAMES[e], **extra, "response": "",
                        "skipped": skipped[i]})
            continue
        r = next(records)
        head = {"post": r["post"], "emotion": r["emotion"], **extra}
        out.append({**head, **{k: v for k, v in r.items() if k not in head}})
    return out, per_post


def run(cfg):
    if not is_auto(cfg.emotion):
        emotion_list(cfg.emotion)  # a bad --emotion fails before anything is read or loaded
    if cfg.output:  # a folder or an unwritable place fails now, not after the decoding
        io_utils.check_output_file(cfg.output, "--output")
    posts = read_posts(cfg.input, cfg.input_format, readers.options(cfg))
    family, saved = registry.open(cfg.model_dir)
    records, per_post = decode(cfg, posts, family, saved)
    if cfg.decode_format == "tsv":
        lines = [f"{r['post']}\t{r['emotion']}\t{r['response']}" for r in records]
    else:
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if cfg.output:
        with io_utils.atomic_open(cfg.output) as f:
            f.write("\n".join(lines) + "\n")
        family.model_settings(cfg, saved).save(os.path.dirname(os.path.abspath(cfg.output)),
                                               os.path.basename(cfg.output) + ".config.json")
        print(f"{len(lines)} responses ({len(posts)} posts x {per_post} emotions) -> {cfg.output}")
    else:
        print("\n".join(lines))
