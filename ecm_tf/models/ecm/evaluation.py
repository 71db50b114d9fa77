"""Teacher-forced perplexity of an ECM-family model on a prep split (--mode=eval, ECM Table 4)."""

import tensorflow as tf

from ecm_tf import emotions
from ecm_tf.evaluation import metrics
from ecm_tf.data import pipeline
from ecm_tf.models.ecm.loss import ecm_loss

EVAL_BATCH = 64


def perplexities(model, cfg, data_dir, split):
    """({name: perplexity}, {name: perplexity_token}) teacher forced over the split.

    Names are the response emotions present and "Overall"; see evaluation/metrics.PerplexityAccumulator.
    """
    step = tf.function(lambda batch: ecm_loss(model(batch, training=False), batch, cfg), reduce_retracing=True)
    accs = {name: metrics.PerplexityAccumulator() for name in list(emotions.NAMES) + ["Overall"]}
    for batch in pipeline.make_dataset(data_dir, split, cfg, training=False, batch_size=EVAL_BATCH):
        out = step(batch)
        for nll, tokens, e in zip(out["example_nll"].numpy(), out["example_tokens"].numpy(),
                                  batch["emotion"].numpy()):
            accs[emotions.NAMES[e]].add(nll, tokens)
            accs["Overall"].add(nll, tokens)
    kept = {name: acc for name, acc in accs.items() if acc.responses}
    return ({name: acc.perplexity() for name, acc in kept.items()},
            {name: acc.perplexity_token() for name, acc in kept.items()})
