"""--mode=interaction: emotion interaction statistics of an annotated corpus (ECM Figure 5).

PREFIX.csv holds P(e_r | e_p) with one row per post emotion e_p and one column per response
emotion e_r, then the raw counts; PREFIX.png is the matching heatmap.
"""

import csv
import io
import sys

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import interaction as interaction_lib
from ecm_tf.data import readers
from ecm_tf.errors import InputError


def interaction_counts(pairs):
    """[6, 6] counts, rows post emotion, columns response emotion."""
    for p in pairs:
        if p.post_emotion is None or p.response_emotion is None:
            raise InputError(f"{p.where}: post and response need emotion labels (run --mode=annotate first)")
    return interaction_lib.counts_of((p.post_emotion, p.response_emotion) for p in pairs)


conditional = interaction_lib.conditional


def table_csv(counts):
    probs = conditional(counts)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["post_emotion", "pairs"] + [f"P({n})" for n in emotions.NAMES] + [f"n({n})" for n in emotions.NAMES])
    for e, name in enumerate(emotions.NAMES):
        w.writerow([name, int(counts[e].sum())] + [f"{p:.4f}" for p in probs[e]] + [int(c) for c in counts[e]])
    return buf.getvalue()


def plot(counts, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs = conditional(counts)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(probs, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(emotions.NUM_EMOTIONS), emotions.NAMES)
    ax.set_yticks(range(emotions.NUM_EMOTIONS), emotions.NAMES)
    ax.set_xlabel("response emotion")
    ax.set_ylabel("post emotion")
    ax.set_title(f"P(response emotion | post emotion), {int(counts.sum())} pairs")
    for i in range(emotions.NUM_EMOTIONS):
        for j in range(emotions.NUM_EMOTIONS):
            ax.text(j, i, f"{probs[i, j]:.2f}", ha="center", va="center",
                    color="white" if probs[i, j] > 0.5 else "black", fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    with io_utils.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def run(cfg):
    if not cfg.input or not cfg.output:
        raise InputError("--mode=interaction needs --input=ANNOTATED_CORPUS and --output=PREFIX")
    counts = interaction_counts(readers.read_corpora(cfg.input, cfg.input_format, **readers.options(cfg)))
    with io_utils.atomic_open(cfg.output + ".csv") as f:
        f.write(table_csv(counts))
    plot(counts, cfg.output + ".png")
    print(table_csv(counts), end="", flush=True)
    print(f"wrote {cfg.output}.csv and {cfg.output}.png", file=sys.stderr, flush=True)
