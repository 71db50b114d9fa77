"""`--mode=cecg_sheet`: NTCIR-14 CECG-style evaluation of a CERG or P&E2R model (CERG paper Table 2).

    python -m ecm_tf.main --mode=cecg_sheet --model_dir=runs/cerg --num_posts=200 \
        --classifier_dir=runs/clf_bilstm --output=runs/cerg_sheet.csv [--no_retrieval]

Decodes --num_posts posts (--input, else the dev split of the model's data) x the five emotions,
then writes atomically:
  OUTPUT       the annotation sheet (CSV: post, emotion, response, safe, proxy_emotion,
               proxy_label, label); safe responses come pre-labelled 0, annotators fill `label`
               with 0/1/2 and score it with --mode=cecg_score;
  OUTPUT.json  per emotion: responses, safe share, proxy score (n1 + 2 n2) / N and emotion accuracy
               by the classifier (the automatic stand-ins of ecm_tf/cerg/cecg_eval.py).
Default OUTPUT: MODEL_DIR/cecg_sheet.csv (cecg_sheet_noretrieval.csv with --no_retrieval).
"""

import os

from ecm_tf import config
from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.cerg import cecg_eval
from ecm_tf.cerg import decode as cerg_decode
from ecm_tf.errors import InputError


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

    if config.saved_model_family(cfg.model_dir) not in ("cerg", "pe2r"):
        raise InputError(f"--model_dir={cfg.model_dir}: --mode=cecg_sheet needs a CERG or P&E2R model folder "
                         "(for ECM models use --mode=eval and --mode=eval_sheet)")
    output = cfg.output or os.path.join(
        cfg.model_dir, "cecg_sheet_noretrieval.csv" if cfg.no_retrieval else "cecg_sheet.csv")
    classifier, classifier_name = load_emotion_classifier(cfg.classifier_dir)
    results = [r for r in cerg_decode.decode(cfg) if emotions.emotion_id(r["emotion"]) in emotions.GENERATED]
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
