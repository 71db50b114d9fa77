"""--mode=classify: one sentence per line in, one emotion name per line out."""

import sys
import time

from ecm_tf import io_utils
from ecm_tf.classifier.predictor import label_names, load_classifier
from ecm_tf.errors import InputError


def run(cfg):
    if not cfg.input or not cfg.output:
        raise InputError("--mode=classify needs --input=FILE (one sentence a line) and --output=FILE")
    io_utils.check_output_file(cfg.output, "--output")  # before the classifying
    classifier = load_classifier(cfg.model_dir)
    lines = io_utils.read_lines(cfg.input)
    start = time.time()
    labels = label_names(classifier.predict(lines)) if lines else []
    with io_utils.atomic_open(cfg.output) as f:
        f.writelines(label + "\n" for label in labels)
    print(f"classified {len(lines)} lines in {time.time() - start:.1f}s -> {cfg.output}", file=sys.stderr, flush=True)
