"""Time left in a training run, from the steady-state step time.

The first step after a start or a resume traces (and with XLA compiles) the step function, and
can take longer than hundreds of later steps: an ETA that averages it in reads far too high early
in the run. `StepClock` starts timing when that first step has finished.
"""

import time


class StepClock:
    """Steady-state seconds per step, and the ETA of the remaining steps.

    Args:
      clock: callable returning seconds (time.perf_counter; injectable for tests).
    """

    def __init__(self, clock=time.perf_counter):
        self._clock = clock
        self._origin = None  # (step, time) at the end of the first step

    def tick(self, step):
        """Call after each step with the global step just finished."""
        if self._origin is None:
            self._origin = (step, self._clock())

    def seconds_per_step(self, step):
        """Mean seconds per step since the first step finished (None until a second step finished)."""
        if self._origin is None or step <= self._origin[0]:
            return None
        return (self._clock() - self._origin[1]) / (step - self._origin[0])

    def eta(self, step, max_steps):
        """'H:MM:SS' left for max_steps - step steps, or '?' before there is a steady-state time."""
        per_step = self.seconds_per_step(step)
        if per_step is None:
            return "?"
        seconds = int(round(per_step * max(max_steps - step, 0)))
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
