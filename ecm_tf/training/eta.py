"""Time left in a training run, from the steady-state step time.

A step that traces the step function (the first one, and the first of each new bucket shape)
can take longer than hundreds of ordinary steps: an ETA from the mean step time reads far too
high early in a run (2.4x at step 250 of the quick start). `StepClock` takes the median of the
recent step times, which those few steps do not move, plus the time spent so far per step on
checkpoints and dev evaluations.
"""

import statistics
import time

RECENT = 512  # step times kept for the median


class StepClock:
    """Per-step timings and the ETA of the remaining steps.

    Args:
      clock: callable returning seconds (time.perf_counter; injectable for tests).
    """

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self._recent = []
        self._steps = 0
        self._overhead = 0.0

    def step_done(self, seconds):
        """Records one training step that took `seconds`."""
        self._recent.append(seconds)
        del self._recent[:-RECENT]
        self._steps += 1

    def overhead_done(self, seconds):
        """Records time spent outside the steps (a checkpoint, a dev evaluation)."""
        self._overhead += seconds

    def seconds_per_step(self):
        """Median recent step time + overhead so far per step (None before any step)."""
        if not self._recent:
            return None
        return statistics.median(self._recent) + self._overhead / self._steps

    def eta(self, remaining_steps):
        """'H:MM:SS' for `remaining_steps` more steps, or '?' before any step."""
        per_step = self.seconds_per_step()
        if per_step is None:
            return "?"
        seconds = int(round(per_step * max(remaining_steps, 0)))
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
