"""`make_optimizer`: ALBERT's pretraining optimizer, LAMB on a warm-up +
polynomial-decay schedule, built from a `PretrainingConfig`."""

import keras

from keras_albert.optimizers.schedules import WarmupPolynomialDecay


def make_optimizer(config):
    """LAMB with `WarmupPolynomialDecay`, as the config says.

    Args:
        config: a `PretrainingConfig`.

    Returns:
        A `keras.optimizers.Lamb` (wrapped in a `LossScaleOptimizer` for
        `mixed_float16`).

    Example:
    ```python
    optimizer = make_optimizer(PretrainingConfig(steps=1000, batch_size=64))
    ```
    """
    accumulation = config.gradient_accumulation_steps
    schedule = WarmupPolynomialDecay(
        peak_learning_rate=config.peak_learning_rate(),
        warmup_steps=config.resolved_warmup_steps(),
        total_steps=config.steps,
        end_learning_rate=config.end_learning_rate,
        power=config.power,
        # Keras calls schedules with its micro-batch counter when
        # accumulating; the schedule divides it back to updates.
        accumulation_steps=accumulation,
    )
    optimizer = keras.optimizers.Lamb(
        learning_rate=schedule,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        weight_decay=config.weight_decay or None,
        global_clipnorm=config.global_clipnorm,
        gradient_accumulation_steps=accumulation if accumulation > 1 else None,
    )
    if config.weight_decay:
        # The reference excludes LayerNorm parameters and all biases.
        optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    if config.mixed_precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
