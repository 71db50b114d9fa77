"""The original ECM learning-rate schedule: decay when the cross-entropy stops improving.

Training feeds it the cross-entropy term alone (`nll`, averaged as --loss_average), not the total
loss with the selector and memory terms: the original's `step()` returns its perplexity term
(seq2seq_model.py:225, `ppxes`), and baseline.py:219-230 averages that over the window.
"""

import tensorflow as tf


class PlateauDecay(tf.Module):
    """lr <- lr * decay when a window's mean loss exceeds the max of the previous three windows.

    The state (current window sum/count, the last three window means, lr) lives in variables, so
    it is saved in checkpoints and a resumed run decays exactly as an uninterrupted one.

    Args:
      learning_rate: tf.Variable, the optimizer's learning rate (changed in place).
      decay: float, multiplicative factor (0.99).
      window: int, steps per window (the original: 1000, its steps_per_checkpoint).
    """

    def __init__(self, learning_rate, decay, window):
        super().__init__(name="plateau_decay")
        self.learning_rate = learning_rate
        self.decay = decay
        self.window = window
        self.window_sum = tf.Variable(0.0, trainable=False, dtype=tf.float64, name="window_sum")
        self.window_count = tf.Variable(0, trainable=False, dtype=tf.int64, name="window_count")
        self.previous = tf.Variable(tf.zeros([3], tf.float64), trainable=False, name="previous_windows")
        self.num_previous = tf.Variable(0, trainable=False, dtype=tf.int64, name="num_previous")

    def add(self, loss):
        """Adds one step's loss to the window (graph ops: the compiled training step calls this, so
        the loss never leaves the device); the sum is float64, as a Python float would be."""
        self.window_sum.assign_add(tf.cast(loss, tf.float64))
        self.window_count.assign_add(1)

    def end_window(self):
        """The rule, once per full window (the host reads the window's sum here, and only here):
        returns True when the learning rate was just decayed."""
        mean = float(self.window_sum.numpy()) / int(self.window_count.numpy())
        prev = self.previous.numpy()
        decayed = int(self.num_previous) >= 3 and mean > prev.max()
        if decayed:
            self.learning_rate.assign(self.learning_rate.numpy() * self.decay)
        self.previous.assign(list(prev[1:]) + [mean])
        self.num_previous.assign_add(1)
        self.window_sum.assign(0.0)
        self.window_count.assign(0)
        return decayed

    def steps_to_window_end(self):
        """Steps until the current window is full (the training loop counts them down on the host)."""
        return self.window - int(self.window_count.numpy())

    def update(self, loss):
        """Adds one step's loss; returns True when the learning rate was just decayed."""
        self.add(loss)
        if int(self.window_count) < self.window:
            return False
        return self.end_window()
