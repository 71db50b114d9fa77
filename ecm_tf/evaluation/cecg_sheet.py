"""`--mode=cecg_sheet`: NTCIR-14 CECG-style evaluation of a model folder (CERG paper Table 2; any family).

    python -m ecm_tf.main --mode=cecg_sheet --model_dir=runs/cerg --num_posts=200 \
        --classifier_dir=runs/clf_bilstm --output=runs/cerg_sheet.csv [--no_retrieval]

Decodes --num_posts posts (--input, else the dev split of the model's data) x the five emotions,
then writes atomically:
  OUTPUT       the annotation sheet (CSV: post, emotion, response, safe, proxy_emotion,
               proxy_label, label); safe responses come pre-labelled 0, annotators fill `label`
               with 0/1/2 and score it with --mode=cecg_score;
  OUTPUT.json  per emotion: responses, safe share, proxy score (n1 + 2 n2) / N and emotion accuracy
               by the classifier (the automatic stand-ins of ecm_tf/evaluation/cecg_eval.py).
Default OUTPUT: MODEL_DIR/cecg_sheet.csv (cecg_sheet_noretrieval.csv with --no_retrieval).
"""

import os

import sys

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import pipeline
from ecm_tf.data import readers
from ecm_tf.errors import InputError
from ecm_tf.evaluation import cecg_eval
from ecm_tf.models import registry


def read_posts(cfg, data_dir):
    """Distinct posts of --input (any corpus format of data/readers.py; `lines`: one post a line),
    else the first --num_posts distinct posts of the dev split of the model's data folder."""
    if cfg.input:
        posts = []
        for path in [p.strip() for p in cfg.input.split(",") if p.strip()]:
            posts += [p.post or p.response for p in readers.read_corpus(path, cfg.input_format, **readers.options(cfg))]
    else:
        posts = [ex["post_text"].replace(" ", "") for ex in pipeline.read_split(data_dir or cfg.data_dir, "dev")]
        posts = posts[: max(cfg.num_posts, 0) * 20]
    posts = list(dict.fromkeys(p for p in posts if p.strip()))
    if not cfg.input:
        posts = posts[: cfg.num_posts]
    if not posts:
        raise InputError(f"--input={cfg.input or '(dev split)'}: no posts")
    return posts


def decode(cfg, family, saved, predictor=None):
    """The family's records for every post (read_posts) x every --emotion."""
    predictor = predictor or family.load(cfg, cfg.model_dir, saved)
    posts = read_posts(cfg, predictor.data_dir)
    emotion_ids = emotions.parse_emotion_list(cfg.emotion)
    rows = [(p, e) for p in posts for e in emotion_ids]
    print(f"decode: {len(posts)} posts x {len(emotion_ids)} emotions, {predictor.search}", file=sys.stderr, flush=True)
    prepared = [family.prepare_post(predictor.settings, p, f"post {i + 1}") for i, (p, _) in enumerate(rows)]
    return predictor.predict(prepared, [e for _, e in rows])


def table(summary):
    lines = ["| emotion | responses | safe share | proxy score | emotion accuracy |", "|---|---|---|---|---|"]
    for name in [emotions.NAMES[e] for e in emotions.GENERATED] + ["Overall"]:
        if name in summary:
            s = summary[name]
            lines.append(f"| {name} | {s['n']} | {s['safe_share']:.3f} | {s['proxy_score']:.3f} | "
                         f"{s['emotion_accuracy']:.3f} |")
    return "\n".join(lines)


def run(cfg):
    from ecm_tf.evaluation.evaluate import load_emotion_classifier

    family, saved = registry.open(cfg.model_dir)
    output = cfg.output or os.path.join(
        cfg.model_dir, "cecg_sheet_noretrieval.csv" if cfg.no_retrieval else "cecg_sheet.csv")
    classifier, classifier_name = load_emotion_classifier(cfg.classifier_dir)
    results = [r for r in decode(cfg, family, saved) if emotions.emotion_id(r["emotion"]) in emotions.GENERATED]
    if not results:
        raise InputError("--emotion: --mode=cecg_sheet scores Like, Sad, Disgust, Angry and Happy only")
    proxy = cecg_eval.proxy_labels(results, classifier)  # the classifier runs once
    cecg_eval.write_sheet(results, output, classifier, proxy)
    summary = cecg_eval.summarize(results, classifier, proxy)
    report = {"model_dir": cfg.model_dir, "sheet": output, "classifier": classifier_name,
              "retrieval": not cfg.no_retrieval, "posts": len({r["post"] for r in results}),
              "per_emotion": summary}
    io_utils.write_json(output + ".json", report)
    print(table(summary))
    print(f"cecg_sheet: {len(results)} responses -> {output} (summary {output}.json; classifier {classifier_name})")
