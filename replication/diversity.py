"""Why beam search returns a handful of generic responses: figures of decode outputs.

    python replication/diversity.py --decodes=NAME=FILE.jsonl[,NAME=FILE.jsonl...] [--output=FILE.json]

For each `--mode=decode --output=...` file (top-1 `response` plus the beam's returned candidates
`responses` with their raw cumulative log-probability `score`): distinct responses, distinct-1/2,
mean length and the share of one-token responses of the top-1; then the same figures after
re-ranking each beam's returned candidates by the score divided by length^alpha (a length
normalisation the paper's decoding does not have; alpha 0.5 and 1.0). Re-ranking only permutes
what the search returned, so it shows the effect of the score's length bias without changing the
search; a search with a normalised score would keep other hypotheses alive as well.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ecm_tf import io_utils  # noqa: E402
from ecm_tf.metrics import distinct_n  # noqa: E402


def figures(responses):
    toks = [r.split() for r in responses]
    return {"responses": len(toks), "distinct_responses": len(set(responses)),
            "distinct1": round(distinct_n(toks, 1), 4), "distinct2": round(distinct_n(toks, 2), 4),
            "mean_length": round(sum(map(len, toks)) / max(1, len(toks)), 2),
            "one_token_share": round(sum(len(t) <= 1 for t in toks) / max(1, len(toks)), 4)}


def rerank(record, alpha):
    cands = record.get("responses") or [{"response": record["response"], "score": record["score"]}]
    best = max(cands, key=lambda c: c["score"] / max(1, len(c["response"].split()) + 1) ** alpha)  # + EOS
    return best["response"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decodes", required=True)
    ap.add_argument("--output", default="")
    args = ap.parse_args()
    out = {}
    for item in args.decodes.split(","):
        name, _, path = item.partition("=")
        records = [json.loads(line) for line in io_utils.read_lines(path) if line.strip()]
        out[name] = {"top1": figures([r["response"] for r in records])}
        for alpha in (0.5, 1.0):
            out[name][f"rerank_len^{alpha}"] = figures([rerank(r, alpha) for r in records])
    if args.output:
        io_utils.write_json(args.output, out)
    print("| decoding | ranking | distinct responses | distinct-1 | distinct-2 | mean length | one-token share |")
    print("|---|---|---|---|---|---|---|")
    for name, by in out.items():
        for rank, f in by.items():
            print(f"| {name} | {rank} | {f['distinct_responses']} / {f['responses']} | {f['distinct1']:.3f} | "
                  f"{f['distinct2']:.3f} | {f['mean_length']:.2f} | {f['one_token_share']:.3f} |")


if __name__ == "__main__":
    main()
