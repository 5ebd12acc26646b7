"""ALBERT's fine-tuning AdamW, the one recipe behind `compile()`'s default
optimizer of every task and behind `finetuning_optimizer`."""

from keras_albert.optimizers.layerwise_adamw import LayerwiseAdamW
from keras_albert.optimizers.weight_decay import NO_WEIGHT_DECAY


def finetuning_adamw(learning_rate=2e-5, weight_decay=0.01,
                     learning_rate_scales=None, beta_1=0.9, beta_2=0.999,
                     epsilon=1e-6, no_weight_decay=NO_WEIGHT_DECAY,
                     **kwargs):
    """AdamW as ALBERT's and BERT's fine-tuning scripts set it up.

    Adam with `beta_1=0.9`, `beta_2=0.999`, `epsilon=1e-6` and decoupled
    weight decay 0.01 on weight matrices and embeddings only: biases and
    LayerNorm parameters are not decayed (see `uses_weight_decay`). Unlike
    `keras.optimizers.AdamW(2e-5, weight_decay=0.01)`, which decays every
    variable, LayerNorm scales included.

    Args:
        learning_rate: float or a `LearningRateSchedule`.
        weight_decay: float. Decoupled (AdamW) weight decay.
        learning_rate_scales: optional dict `{variable.path: float}` of
            per-variable rate multipliers (layer-wise decay; see
            `layerwise_learning_rate_scales`). `None`: 1 everywhere.
        beta_1, beta_2, epsilon: Adam's.
        no_weight_decay: substrings of variable paths that are not decayed.
        **kwargs: other `keras.optimizers.Optimizer` arguments (e.g.
            `clipnorm`, `gradient_accumulation_steps`).

    Returns:
        A `LayerwiseAdamW`.

    Example:
    ```python
    classifier.compile(optimizer=finetuning_adamw(3e-5))
    ```
    """
    return LayerwiseAdamW(
        learning_rate, learning_rate_scales=learning_rate_scales,
        weight_decay=weight_decay, no_weight_decay=no_weight_decay,
        beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **kwargs)
