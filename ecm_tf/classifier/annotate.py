"""--mode=annotate: labels every post and response of a conversation corpus with a trained classifier.

Writes the NLPCC 2017 pair format `[[[post, post_label], [response, response_label]], ...]` with
word-segmented (space-joined jieba) text, ready for --mode=prep.
"""

import collections
import time

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.classifier.predictor import load_classifier
from ecm_tf.data import readers
from ecm_tf.data import text as text_lib
from ecm_tf.data.pair import Pair
from ecm_tf.errors import InputError


def annotate(pairs, classifier):
    """Pairs with segmented text and predicted post and response emotions (empty posts are skipped)."""
    pairs = [p for p in pairs if p.post]
    texts = [" ".join(text_lib.segment(s)) for p in pairs for s in (p.post, p.response)]
    labels = classifier.predict(texts)
    return [Pair(texts[2 * i], texts[2 * i + 1], labels[2 * i + 1], labels[2 * i], p.where)
            for i, p in enumerate(pairs) if texts[2 * i] and texts[2 * i + 1]]


def run(cfg):
    if not cfg.input or not cfg.output:
        raise InputError("--mode=annotate needs --input=CORPUS[,CORPUS...] and --output=FILE")
    io_utils.check_output_file(cfg.output, "--output")  # before the classifying
    classifier = load_classifier(cfg.model_dir)
    pairs = readers.read_corpora(cfg.input, cfg.input_format, **readers.options(cfg))
    start = time.time()
    out = annotate(pairs, classifier)
    if not out:
        raise InputError(f"--input={cfg.input}: no post/response pairs to annotate")
    readers.write_pairs_json(cfg.output, out)
    seconds = time.time() - start
    for what, key in (("post", "post_emotion"), ("response", "response_emotion")):
        counts = collections.Counter(getattr(p, key) for p in out)
        print(f"{what} labels: " + ", ".join(
            f"{emotions.NAMES[e]} {counts[e]} ({counts[e] / len(out):.1%})" for e in range(emotions.NUM_EMOTIONS)),
            flush=True)
    print(f"annotated {len(out)} pairs ({2 * len(out)} sentences) in {seconds:.1f}s -> {cfg.output}", flush=True)
