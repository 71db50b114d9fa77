"""Teacher-forced perplexity of an ECM-family model on a prep split (--mode=eval, ECM Table 4)."""

import tensorflow as tf

from ecm_tf import emotions
from ecm_tf import metrics
from ecm_tf.data import pipeline
from ecm_tf.models.ecm.loss import ecm_loss

EVAL_BATCH = 64


def perplexities(model, cfg, data_dir, split, pairs=None, spread=None):
    """({name: perplexity}, {name: perplexity_token}) teacher forced over the split.

    Names are the response emotions present and "Overall"; see ecm_tf/metrics.PerplexityAccumulator.
    `pairs`, a dict, receives {name: number of pairs (responses) behind the figures}; `spread`, a
    dict, receives {name: factor}: exp(1.96 standard errors of the mean per-response NLL), so that
    perplexity / factor .. perplexity x factor is its approximate 95% interval (2 pairs or more).
    """
    step = tf.function(lambda batch: ecm_loss(model(batch, training=False), batch, cfg), reduce_retracing=True)
    accs = {name: metrics.PerplexityAccumulator() for name in list(emotions.NAMES) + ["Overall"]}
    means = {name: [] for name in accs}
    for batch in pipeline.make_dataset(data_dir, split, cfg, training=False, batch_size=EVAL_BATCH):
        out = step(batch)
        for nll, tokens, e in zip(out["example_nll"].numpy(), out["example_tokens"].numpy(),
                                  batch["emotion"].numpy()):
            accs[emotions.NAMES[e]].add(nll, tokens)
            accs["Overall"].add(nll, tokens)
            if tokens > 0:
                means[emotions.NAMES[e]].append(float(nll) / float(tokens))
                means["Overall"].append(float(nll) / float(tokens))
    kept = {name: acc for name, acc in accs.items() if acc.responses}
    if pairs is not None:
        pairs.update({name: acc.responses for name, acc in kept.items()})
    if spread is not None:
        spread.update({name: metrics.interval_factor(means[name]) for name in kept if len(means[name]) >= 2})
    return ({name: acc.perplexity() for name, acc in kept.items()},
            {name: acc.perplexity_token() for name, acc in kept.items()})
