"""The usual fine-tuning recipe in one call: AdamW, warm-up, linear decay,
optional layer-wise learning-rate decay."""

from keras_albert.optimizers.finetuning_adamw import finetuning_adamw
from keras_albert.optimizers.layer_decay import layerwise_learning_rate_scales
from keras_albert.optimizers.schedules import WarmupPolynomialDecay


def finetuning_optimizer(model, learning_rate=2e-5, total_steps=None,
                         warmup_ratio=0.1, weight_decay=0.01, layer_decay=1.0,
                         **kwargs):
    """AdamW for fine-tuning `model`, as in ALBERT's and BERT's scripts.

    The learning rate warms up linearly over `warmup_ratio * total_steps`
    optimizer steps to `learning_rate`, then decays linearly to 0 at
    `total_steps`. With `layer_decay < 1`, each distinct parameter group
    gets `learning_rate * layer_decay ** (distance from the top)` (see
    `layerwise_learning_rate_scales`; embeddings lowest, heads full rate).
    The optimizer is `finetuning_adamw`, the same AdamW as the tasks'
    `compile()` default: biases and LayerNorm parameters get no weight
    decay.

    Args:
        model: the task model (or backbone) to be trained.
        learning_rate: peak learning rate.
        total_steps: int, optimizer steps of the whole run (e.g.
            `epochs * steps_per_epoch`); None keeps the rate constant after
            no warm-up.
        warmup_ratio: float in [0, 1), fraction of `total_steps` to warm
            up over.
        weight_decay: float, decoupled (AdamW) weight decay.
        layer_decay: float in (0, 1]; 1 disables layer-wise decay.
        **kwargs: passed to `finetuning_adamw` (e.g. `clipnorm=1.0`).

    Example:
    ```python
    steps = epochs * math.ceil(len(train_texts) / batch_size)
    classifier.compile(optimizer=finetuning_optimizer(
        classifier, 3e-5, total_steps=steps, layer_decay=0.8))
    ```
    """
    if not 0.0 <= float(warmup_ratio) < 1.0:
        raise ValueError(
            f"`warmup_ratio` must be in [0, 1); got {warmup_ratio}.")
    schedule = learning_rate
    if total_steps is not None:
        schedule = WarmupPolynomialDecay(
            learning_rate, warmup_steps=int(warmup_ratio * total_steps),
            total_steps=int(total_steps), power=1.0,
        )
    scales = layerwise_learning_rate_scales(model, layer_decay)
    return finetuning_adamw(schedule, learning_rate_scales=scales,
                            weight_decay=weight_decay, **kwargs)
