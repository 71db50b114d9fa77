"""--mode=train_classifier: trains one classifier of ECM Table 2 and scores it on the held-out test split.

Data: the NLPCC XML files of --input, segmented with jieba, split 8:1:1 by weibo (seeded; a weibo's
sentences stay in one split). Neural models are
trained with Adam on (optionally class-weighted) cross-entropy; after every epoch the dev split is
scored and the epoch with the best dev --clf_select metric is kept. model_dir receives config.json,
metrics.json (dev and test accuracy / macro-F1 / per-class F1 / confusion, majority baseline),
and for neural models vocab.txt and saved_model/ (see export_module.ClassifierModule).
"""

import os
import sys
import time

import numpy as np

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.classifier import data as data_lib
from ecm_tf.classifier import extra_data
from ecm_tf.classifier import metrics as metrics_lib
from ecm_tf.classifier.lexicon import LexiconClassifier
from ecm_tf.classifier.vocabulary import ClassifierVocabulary
from ecm_tf.data import cped

PAPER_ACCURACY = {"lexicon": 0.432, "rnn": 0.564, "lstm": 0.594, "bilstm": 0.623}


def _log(message):
    print(message, file=sys.stderr, flush=True)


def build_model(cfg, vocab_size):
    from ecm_tf.classifier.recurrent_classifier import RecurrentClassifier

    return RecurrentClassifier(cfg.classifier, vocab_size, cfg.clf_embed_dim, cfg.clf_hidden, cfg.clf_dropout)


def logits_function(model):
    """A traced `ids [B, T] -> logits [B, 6]` of a Keras classifier (one trace for every shape)."""
    import tensorflow as tf

    return tf.function(lambda ids: model(ids, training=False),
                       input_signature=[tf.TensorSpec([None, None], tf.int32)])


def predict_ids(logits_fn, id_lists, batch_size=512):
    """Argmax labels for id lists, in length-sorted batches; `logits_fn` from logits_function()."""
    out = np.zeros(len(id_lists), dtype=np.int64)
    for batch in data_lib.length_batches([len(x) for x in id_lists], batch_size):
        out[batch] = np.argmax(logits_fn(data_lib.pad([id_lists[i] for i in batch])), axis=-1)
    return out.tolist()


def fit(cfg, train_ids, train_labels, dev_ids, dev_labels, vocab_size, log=_log):
    """Trains a RecurrentClassifier; returns (model with the best dev epoch's weights, history)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(cfg.seed)
    model = build_model(cfg, vocab_size)
    optimizer = keras.optimizers.Adam(cfg.clf_learning_rate)
    weights = tf.constant(data_lib.class_weights(train_labels, emotions.NUM_EMOTIONS, cfg.class_weighting))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])
    def train_step(ids, labels):
        with tf.GradientTape() as tape:
            logits = model(ids, training=True)  # [B, 6]
            w = tf.gather(weights, labels)  # [B]
            loss = tf.reduce_sum(w * loss_fn(labels, logits)) / tf.reduce_sum(w)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    logits_fn = logits_function(model)
    rng = np.random.RandomState(cfg.seed)
    labels_arr = np.asarray(train_labels, dtype=np.int32)
    history, best, best_weights = [], None, None
    for epoch in range(1, cfg.clf_epochs + 1):
        start, losses = time.time(), []
        for batch in data_lib.length_batches([len(x) for x in train_ids], cfg.clf_batch_size, rng):
            ids = data_lib.pad([train_ids[i] for i in batch])
            losses.append(float(train_step(ids, labels_arr[batch])))
        dev = metrics_lib.evaluate(dev_labels, predict_ids(logits_fn, dev_ids))
        row = {"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "dev_accuracy": dev["accuracy"],
               "dev_macro_f1": dev["macro_f1"], "seconds": round(time.time() - start, 1)}
        history.append(row)
        improved = best is None or dev[cfg.clf_select] > best[cfg.clf_select]
        if improved:
            best, best_weights = dict(dev, epoch=epoch), model.get_weights()
        log(f"epoch {epoch}/{cfg.clf_epochs} loss {row['loss']:.4f} dev acc {dev['accuracy']:.4f} "
            f"macro-F1 {dev['macro_f1']:.4f} ({row['seconds']:.1f}s){' *' if improved else ''}")
    model.set_weights(best_weights)
    return model, {"epochs": history, "best_epoch": best["epoch"]}


def export(model, vocab, folder):
    """Writes vocab.txt and the next version folder saved_model/N (saved_models.write: atomic, never
    replacing an earlier version); returns the version folder."""
    from ecm_tf import saved_models
    from ecm_tf.classifier.export_module import ClassifierModule

    vocab.save(os.path.join(folder, "vocab.txt"))
    module = ClassifierModule(model, len(vocab), vocab.sha256())
    return saved_models.write(module, os.path.join(folder, "saved_model"), {"serving_default": module.serve},
                              flag="--model_dir")


def run(cfg):
    """--mode=train_classifier into --model_dir: checked writable first, one writer at a time."""
    io_utils.check_output_folder(cfg.model_dir, "--model_dir")
    with io_utils.folder_lock(cfg.model_dir, "--model_dir"):
        _train(cfg)


def _train(cfg):
    start = time.time()
    rows = data_lib.read_labelled_weibos(cfg.input)
    sentences = [(text, eid) for text, eid, _ in rows]
    _log(f"read {len(sentences)} labelled sentences from {cfg.input}; segmenting")
    tokens = [data_lib.tokenize(text, cfg.clf_max_len) for text, _ in sentences]
    labels = [eid for _, eid in sentences]
    weibos = [w for _, _, w in rows]
    tr, dv, te = data_lib.split_by_group(weibos, cfg.clf_dev_fraction, cfg.clf_test_fraction, cfg.seed)
    pick = lambda idx, xs: [xs[i] for i in idx]  # noqa: E731
    extra_report = None
    if cfg.clf_extra_train:  # silver / CPED sentences join the train split only
        extra, extra_report = extra_data.extra_train(cfg.clf_extra_train, [sentences[i][0] for i in [*dv, *te]],
                                                     cped.emotion_map(cfg.cped_emotion_map))
        _log("extra train sentences: " + "; ".join(f"{r['path']} {r['kept']} kept, {r['dropped_as_dev_or_test']} "
                                                   "dropped as dev/test duplicates" for r in extra_report))
        tr = np.concatenate([tr, np.arange(len(sentences), len(sentences) + len(extra))])
        tokens += [data_lib.tokenize(text, cfg.clf_max_len) for text, _ in extra]
        labels += [eid for _, eid in extra]
    _log(f"split by weibo ({len(set(weibos))} weibos) train/dev/test = {len(tr)}/{len(dv)}/{len(te)}; train labels "
         + ", ".join(f"{emotions.NAMES[c]} {n}" for c, n in enumerate(np.bincount(pick(tr, labels), minlength=6))))
    os.makedirs(cfg.model_dir, exist_ok=True)
    extra = {}
    if cfg.classifier == "lexicon":
        clf = LexiconClassifier()
        dev_pred = [clf.predict_tokens(t) for t in pick(dv, tokens)]
        test_pred = [clf.predict_tokens(t) for t in pick(te, tokens)]
        history = {}
        predict_tokens = lambda token_lists: [clf.predict_tokens(t) for t in token_lists]  # noqa: E731
    else:
        vocab = ClassifierVocabulary.build(pick(tr, tokens), cfg.clf_vocab_size, cfg.clf_min_count)
        ids = [vocab.encode(t) for t in tokens]
        _log(f"vocabulary {len(vocab)} words (min count {cfg.clf_min_count}); training {cfg.classifier} "
             f"for {cfg.clf_epochs} epochs, class weighting {cfg.class_weighting}, select on dev {cfg.clf_select}")
        model, history = fit(cfg, pick(tr, ids), pick(tr, labels), pick(dv, ids), pick(dv, labels), len(vocab))
        logits_fn = logits_function(model)
        dev_pred, test_pred = predict_ids(logits_fn, pick(dv, ids)), predict_ids(logits_fn, pick(te, ids))
        predict_tokens = lambda token_lists: predict_ids(logits_fn, [vocab.encode(t) for t in token_lists])  # noqa: E731
        export(model, vocab, cfg.model_dir)
        extra = {"clf_vocab_words": len(vocab), "clf_vocab_sha256": vocab.sha256()}
    report = {
        "classifier": cfg.classifier,
        "split": {"train": len(tr), "dev": len(dv), "test": len(te), "seed": cfg.seed, "by": "weibo",
                  "weibos": {"train": len({weibos[i] for i in tr if i < len(weibos)}),
                             "dev": len({weibos[i] for i in dv}), "test": len({weibos[i] for i in te})}},
        "dev": metrics_lib.evaluate(pick(dv, labels), dev_pred),
        "test": metrics_lib.evaluate(pick(te, labels), test_pred),
        "majority_baseline_test": metrics_lib.majority_baseline(pick(tr, labels), pick(te, labels)),
        "paper_accuracy": PAPER_ACCURACY[cfg.classifier],
        "class_weighting": cfg.class_weighting,
        "selected_on": f"dev {cfg.clf_select}",
        "history": history,
        "seconds": round(time.time() - start, 1),
    }
    if extra_report is not None:
        report["extra_train"] = extra_report
    if cfg.clf_agreement_input:  # agreement with CPED's human labels
        report["agreement"] = extra_data.agreement(predict_tokens, cfg.clf_agreement_input,
                                                   lambda t: data_lib.tokenize(t, cfg.clf_max_len),
                                                   cped.emotion_map(cfg.cped_emotion_map))
        a = report["agreement"]
        _log(f"agreement with the human labels of {cfg.clf_agreement_input}: accuracy {a['accuracy']:.4f} "
             f"macro-F1 {a['macro_f1']:.4f} kappa {a['kappa']:.4f} ({a['n']} utterances)")
    io_utils.write_json(os.path.join(cfg.model_dir, "metrics.json"), report)
    cfg.replace(**extra).save(cfg.model_dir)
    test, base = report["test"], report["majority_baseline_test"]
    print(f"{cfg.classifier}: test accuracy {test['accuracy']:.4f} macro-F1 {test['macro_f1']:.4f} "
          f"(majority baseline {base['accuracy']:.4f} / {base['macro_f1']:.4f}; paper accuracy "
          f"{report['paper_accuracy']}) -> {cfg.model_dir}/metrics.json", flush=True)
