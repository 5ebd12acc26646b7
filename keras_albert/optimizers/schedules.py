"""Learning-rate schedule of ALBERT pretraining and fine-tuning: linear
warm-up, then polynomial decay."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_albert")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to a peak learning rate, then polynomial decay.

    With `u` the number of optimizer updates done so far (see
    `accumulation_steps`), `W = warmup_steps` and `T = total_steps`:

    ```
    lr(u) = peak * u / W                                     for u < W
    lr(u) = (peak - end) * (1 - (u - W) / (T - W)) ** power + end
                                                             for W <= u <= T
    lr(u) = end                                              for u > T
    ```

    So the rate is 0 at the first update, reaches `peak` at update `W` and
    `end` at update `T`. The BERT/ALBERT reference code decays over the
    whole run (from update 0) and overrides the first `W` updates with the
    warm-up ramp, which leaves a small jump at `W`; this schedule decays over
    the `T - W` updates after the warm-up instead, so it is continuous. With
    the paper's 3,125 of 125,000 warm-up updates the two differ by at most
    2.5% of the rate.

    Args:
        peak_learning_rate: float. Rate at the end of the warm-up.
        warmup_steps: int. Optimizer updates of linear warm-up (0 starts at
            the peak).
        total_steps: int. Optimizer updates after which the rate stays at
            `end_learning_rate`.
        end_learning_rate: float. Final rate.
        power: float. Decay exponent (1.0 is linear decay, as in ALBERT).
        accumulation_steps: int. Set it to the optimizer's
            `gradient_accumulation_steps`: Keras optimizers then call the
            schedule with their micro-batch counter, and dividing by this
            makes the schedule count optimizer updates.
        name: optional string.

    Example:
    ```python
    schedule = WarmupPolynomialDecay(
        peak_learning_rate=1.76e-3, warmup_steps=3125, total_steps=125_000)
    float(schedule(3125))  # 0.00176
    optimizer = keras.optimizers.Lamb(learning_rate=schedule)
    ```
    """

    def __init__(self, peak_learning_rate, warmup_steps, total_steps,
                 end_learning_rate=0.0, power=1.0, accumulation_steps=1,
                 name=None):
        super().__init__()
        if total_steps < 1:
            raise ValueError(f"`total_steps` must be >= 1, got {total_steps}.")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                "`warmup_steps` must be between 0 and `total_steps` "
                f"({total_steps}), got {warmup_steps}.")
        if accumulation_steps < 1:
            raise ValueError("`accumulation_steps` must be >= 1, got "
                             f"{accumulation_steps}.")
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)
        self.accumulation_steps = int(accumulation_steps)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.accumulation_steps > 1:
            step = ops.floor(step / float(self.accumulation_steps))
        peak = self.peak_learning_rate
        end = self.end_learning_rate
        warmup = float(self.warmup_steps)
        # max(.., 1) keeps both branches finite; `where` picks the right one.
        warmup_lr = peak * step / max(warmup, 1.0)
        decay_steps = max(float(self.total_steps) - warmup, 1.0)
        progress = ops.clip((step - warmup) / decay_steps, 0.0, 1.0)
        decay_lr = (peak - end) * ops.power(1.0 - progress, self.power) + end
        return ops.where(step < warmup, warmup_lr, decay_lr)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "accumulation_steps": self.accumulation_steps,
            "name": self.name,
        }
