"""P&E2R overfits a few pairs, decodes them back with the shared beam search, reloads, and its
SavedModel answers the same under TF Serving's session loader."""

import numpy as np
import tensorflow as tf

from conftest import assert_loaders_agree, load_both_ways
from ecm_tf import flags as ecm_flags
from ecm_tf.models.cerg import data
from ecm_tf.models.cerg import serving_module
from ecm_tf.models.cerg import trainer as cerg_trainer
from ecm_tf.models.cerg.predictor import CergPredictor

PAIRS = [("今天天气真好", "是啊出去玩吧", 1), ("我好难过", "别难过了抱抱", 2), ("气死我了", "谁惹你生气了", 4),
         ("好开心啊", "哈哈恭喜你", 5), ("这个菜真难吃", "那就别吃了", 3), ("晚上吃什么", "吃火锅吧", 0)]


def test_pe2r_overfits_decodes_and_reloads(tmp_path):
    cfg = ecm_flags.defaults().replace(
        model="pe2r", model_dir=str(tmp_path), embed_dim=32, hidden=64, emotion_dim=16, cerg_max_chars=8,
        batch_size=6, max_steps=150, learning_rate=3e-3, log_every=1000, steps_per_checkpoint=1000,
        steps_per_eval=1000, jit_compile=False, vocab_size=1000, beam_size=2)
    pairs = [(list(p), list(r), e) for p, r, e in PAIRS]
    trainer, stats = cerg_trainer.train(cfg, pairs, quiet=True)
    predictor = CergPredictor.load(str(tmp_path))
    arrays = data.to_arrays(predictor.vocab, pairs, 8)
    batch = {k: tf.constant(v) for k, v in arrays.items()}
    assert float(cerg_trainer.response_loss(trainer.model.batch_logits(batch), batch["target"])) < 0.1
    np.testing.assert_array_equal(predictor.model.batch_logits(batch).numpy(),
                                  trainer.model.batch_logits(batch).numpy())
    assert predictor.index is None  # P&E2R has no retrieval
    assert predictor.respond([p for p, _, _ in PAIRS], [e for _, _, e in PAIRS]) == [r for _, r, _ in PAIRS]
    # The incremental decoder step equals teacher forcing.
    full = tf.nn.log_softmax(trainer.model.batch_logits(batch)).numpy()
    state = trainer.model.initial_state(batch["emotion"], batch["post"])
    ids = tf.fill([6], trainer.model.start_id)
    for t in range(3):
        log_probs, state = trainer.model.step(ids, state)
        np.testing.assert_allclose(log_probs.numpy(), full[:, t], atol=1e-4)
        ids = batch["target"][:, t]
    # The SavedModel, loaded as TF Serving loads it, answers as the predictor does.
    path = serving_module.export(str(tmp_path), str(tmp_path / "export"))
    posts = [p for p, _, _ in PAIRS]
    both = load_both_ways(path, "serving_default", {"posts": posts, "emotions": [str(e) for _, _, e in PAIRS]})
    assert_loaders_agree(both)
    assert [row[0] for row in both["session"]["responses"]] == [r for _, r, _ in PAIRS]


def test_pe2r_resumes_its_model_optimizer_and_step(tmp_path):
    # Through the shared loop: the checkpoint restores the weights, Adam's moments and the step. (The
    # input, the whole set in one shuffle buffer, is not saved: tests/test_training_loop.py checks the note.)
    def cfg(folder, steps):
        return ecm_flags.defaults().replace(
            model="pe2r", model_dir=str(folder), embed_dim=8, hidden=16, emotion_dim=4, cerg_max_chars=8,
            batch_size=6, max_steps=steps, learning_rate=3e-3, log_every=2, steps_per_checkpoint=2,
            steps_per_eval=1000, jit_compile=False, vocab_size=1000)
    pairs = [(list(p), list(r), e) for p, r, e in PAIRS]  # one batch holds them all: every order is the same
    straight, _ = cerg_trainer.train(cfg(tmp_path / "a", 4), pairs, quiet=True)
    cerg_trainer.train(cfg(tmp_path / "b", 2), pairs, quiet=True)
    resumed, stats = cerg_trainer.train(cfg(tmp_path / "b", 4), pairs, quiet=True)
    assert int(resumed.step.numpy()) == 4 and stats["steps"] == 4
    for x, y in zip(straight.model.weights, resumed.model.weights):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-6, atol=1e-7, err_msg=x.path)
