"""`--mode=eval`: automatic evaluation of ECM Table 4 (perplexity, emotion accuracy) + distinct-1/2.

    python -m ecm_tf.main --mode=eval --model_dir=runs/builtin/ecm \
        --classifier_dir=runs/builtin/classifier

On the test split of the model's prep folder (dev when there is no test split):
  - perplexity (ECM Table 4, the original release's definition): exp of the mean over responses
    of each response's mean token NLL, teacher forced, cross-entropy only (seq2seq.py
    sequence_loss_by_example, baseline.py dev evaluation), per response emotion and overall;
    perplexity_token beside it: exp(total NLL / total tokens), the corpus perplexity;
  - emotion accuracy: every distinct post (or a seeded sample of --eval_posts) is decoded for the
    five emotions (Like..Happy, top-1 of the beam search); the share of responses the classifier
    labels with the requested emotion;
  - distinct-1/2 of those responses.
The classifier is --classifier_dir (--mode=train_classifier); when that folder does not exist the
DUTIR lexicon classifier is used and the report says so. Writes eval.json and eval.md in model_dir.

The table says what each figure rests on: `pairs` is the number of split pairs (responses) of that
response emotion behind its perplexities, `responses` the number of generated responses behind its
emotion accuracy and distinct-n. Perplexity is the exponential of a mean, so its error is a factor:
eval.json's `perplexity_interval_factor` F gives perplexity / F .. perplexity x F, an approximate 95%
interval (1.96 standard errors of the mean per-response NLL). A class with fewer than
MIN_PERPLEXITY_PAIRS (30) pairs is marked `*` and named in a note under the table with its pairs and
F: per-response mean NLLs spread by 1 nat or more, so below 30 pairs F exceeds exp(1.96 / sqrt(30))
= 1.43, and the class's perplexity cannot be ranked against the others (with 1 pair, F is unknown).
"""

import os
import random
import sys
import time

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import pipeline
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError
from ecm_tf import metrics
from ecm_tf.models import registry

# Fewer split pairs of a response emotion than this: its perplexity is marked (see the docstring).
MIN_PERPLEXITY_PAIRS = 30
PROGRESS_SECONDS = 10


def pick_split(data_dir):
    for split in ("test", "dev"):
        if tfrecords.split_files(data_dir, split):
            return split
    raise InputError(f"--data_dir={data_dir}: no test-*.tfrecord or dev-*.tfrecord files (run --mode=prep)")


def load_emotion_classifier(classifier_dir):
    """(classifier, description): the trained one, or the lexicon classifier when the folder is absent."""
    from ecm_tf.classifier.lexicon import LexiconClassifier
    from ecm_tf.classifier.predictor import load_classifier

    if classifier_dir and os.path.isdir(classifier_dir):
        return load_classifier(classifier_dir, "--classifier_dir"), classifier_dir
    sys.stderr.write(f"--classifier_dir={classifier_dir}: no such folder; using the DUTIR lexicon classifier\n")
    return LexiconClassifier(), "lexicon (fallback)"


def generation_metrics(predictor, posts, classifier, chooser=None):
    """Emotion accuracy and distinct-n per generated emotion and overall: every post x the five
    emotions, or with `chooser` (an AutoEmotion, --emotion=auto) every post x its chosen emotion(s).
    `posts` are the split's space-segmented post texts."""
    token_lists = [p.split() for p in posts]
    last = [time.time()]

    def progress(done, total):
        if done == total or time.time() - last[0] > PROGRESS_SECONDS:
            last[0] = time.time()
            print(f"decoded {done}/{total} (post, emotion) pairs", file=sys.stderr, flush=True)

    if chooser is None:
        jobs = [(i, e) for i in range(len(token_lists)) for e in emotions.GENERATED]
    else:
        jobs = [(i, e) for i, (_, chosen) in enumerate(chooser.choose(token_lists)) for e in chosen]
    prepared = [predictor.family.prepare_post(predictor.settings, p, f"post {i + 1}") for i, p in enumerate(posts)]
    records = predictor.predict([prepared[i] for i, _ in jobs], [e for _, e in jobs], progress=progress)
    results = {job: r["response"].split() for job, r in zip(jobs, records)}
    keys = sorted(results)
    responses = [results[k] for k in keys]
    predicted = classifier.predict([" ".join(r) for r in responses])
    out = {}
    for name, wanted in [(emotions.NAMES[e], (e,)) for e in emotions.GENERATED] + [("Overall", emotions.GENERATED)]:
        rows = [i for i, (_, e) in enumerate(keys) if e in wanted]
        if not rows:
            continue
        out[name] = {
            "emotion_accuracy": metrics.emotion_accuracy([keys[i][1] for i in rows], [predicted[i] for i in rows]),
            "distinct_1": metrics.distinct_n([responses[i] for i in rows], 1),
            "distinct_2": metrics.distinct_n([responses[i] for i in rows], 2),
            "responses": len(rows),
        }
    return out


def markdown(report):
    pairs = report.get("pairs", {})
    few = [name for name in emotions.NAMES if 0 < pairs.get(name, 0) < MIN_PERPLEXITY_PAIRS]
    absent = [name for name in emotions.NAMES if name not in report["perplexity"]]
    lines = [f"Evaluation of `{report['model_dir']}` on the {report['split']} split "
             f"({report['examples']} pairs, {report['posts']} posts x {report.get('emotions', '5 emotions')}; "
             f"classifier: {report['classifier']}; "
             f"decoder: {report['decoder']})", "",
             "perplexity: exp(mean over responses of the per-response mean NLL), as the original release "
             "reports it; perplexity (token): exp(total NLL / total tokens); pairs: the split's pairs "
             "with that response emotion, behind both perplexities; responses: the generated responses "
             "behind emotion accuracy and distinct-n", "",
             "| emotion | pairs | perplexity | perplexity (token) | responses | emotion accuracy | distinct-1 | distinct-2 |",
             "|---|---|---|---|---|---|---|---|"]
    for name in list(emotions.NAMES) + ["Overall"]:
        gen = report["generation"].get(name)
        mark = "*" if name in few else ""
        cells = [str(pairs[name]) if name in pairs else "0"]
        cells += [f"{report[key][name]:.1f}{mark}" if name in report[key] else "-"
                  for key in ("perplexity", "perplexity_token")]
        cells += [str(gen["responses"])] if gen else ["0" if name != "Other" else "-"]
        cells += [f"{gen[k]:.3f}" for k in ("emotion_accuracy", "distinct_1", "distinct_2")] if gen else ["-"] * 3
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if few:
        spread = report.get("perplexity_interval_factor", {})
        named = ", ".join(f"{n} {pairs[n]}" + (f" (x/ {spread[n]:.2f})" if n in spread else "") for n in few)
        lines += ["", f"* fewer than {MIN_PERPLEXITY_PAIRS} {report['split']} pairs: {named}; the 95% interval of "
                  "a perplexity is perplexity x/ the factor shown (eval.json perplexity_interval_factor), so "
                  "these perplexities mean little"]
    if absent:
        lines += ["", f"no {report['split']} pair of {', '.join(absent)}: no perplexity for "
                  f"{'it' if len(absent) == 1 else 'them'}"]
    return "\n".join(lines) + "\n"


def run(cfg):
    family, saved = registry.open(cfg.model_dir)
    io_utils.check_output_folder(cfg.model_dir, "--model_dir")  # now, not after the decoding
    for name in ("eval.json", "eval.md"):
        io_utils.check_output_file(os.path.join(cfg.model_dir, name))
    predictor = family.load(cfg, cfg.model_dir, saved)
    data_dir = predictor.data_dir
    split = pick_split(data_dir)
    classifier, classifier_name = load_emotion_classifier(cfg.classifier_dir)
    print(f"evaluating {cfg.model_dir} on {data_dir} {split} split", file=sys.stderr, flush=True)
    examples = pipeline.read_split(data_dir, split)
    posts = sorted({ex["post_text"] for ex in examples if ex["post_text"]})
    if 0 < cfg.eval_posts < len(posts):
        posts = sorted(random.Random(cfg.seed).sample(posts, cfg.eval_posts))
    pairs, spread = {}, {}
    ppl, ppl_token = family.perplexities(predictor, split, pairs, spread)
    chooser = None
    if str(cfg.emotion).strip().lower() == "auto":
        from ecm_tf.classifier.auto_emotion import AutoEmotion

        chooser = AutoEmotion.for_data(classifier, data_dir, cfg.auto_emotion_top_k)
    report = {
        "model_dir": cfg.model_dir, "data_dir": data_dir, "split": split, "examples": len(examples),
        "posts": len(posts), "classifier": classifier_name,
        **({"emotions": f"the emotion --emotion=auto chose (top {cfg.auto_emotion_top_k})"} if chooser else {}),
        "decoder": predictor.search,
        "perplexity": ppl, "perplexity_token": ppl_token, "pairs": pairs,
        "perplexity_interval_factor": {k: round(v, 4) for k, v in spread.items()},
        "min_perplexity_pairs": MIN_PERPLEXITY_PAIRS,
        "generation": generation_metrics(predictor, posts, classifier, chooser),
    }
    io_utils.write_json(os.path.join(cfg.model_dir, "eval.json"), report)
    table = markdown(report)
    with io_utils.atomic_open(os.path.join(cfg.model_dir, "eval.md")) as f:
        f.write(table)
    print(table, end="")
