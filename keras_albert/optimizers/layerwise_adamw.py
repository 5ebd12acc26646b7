"""AdamW with a learning-rate multiplier per variable."""

import keras
from keras import ops

from keras_albert.optimizers.weight_decay import NO_WEIGHT_DECAY
from keras_albert.optimizers.weight_decay import uses_weight_decay
from keras_albert.utils import compat


@keras.saving.register_keras_serializable(package="keras_albert")
class LayerwiseAdamW(keras.optimizers.Adam):
    """AdamW whose learning rate (and decoupled weight decay) is scaled per
    variable, for layer-wise learning-rate decay.

    The update of a variable with path `p` uses
    `learning_rate * learning_rate_scales.get(p, 1.0)`, and so does its
    weight decay (`variable -= lr_p * weight_decay * variable`, as in
    AdamW). Variables whose path contains one of `no_weight_decay` (by
    default biases and LayerNorm parameters, as in ALBERT's fine-tuning
    scripts; see `uses_weight_decay`) are not decayed. `finetuning_adamw`
    builds it with the fine-tuning recipe's settings.

    Args:
        learning_rate: float or a `LearningRateSchedule`.
        learning_rate_scales: dict `{variable.path: float}`; see
            `layerwise_learning_rate_scales`.
        weight_decay: float, decoupled weight decay.
        no_weight_decay: list of substrings of variable paths.
        beta_1, beta_2, epsilon: Adam's.
        **kwargs: other `keras.optimizers.Optimizer` arguments (e.g.
            `clipnorm`, `gradient_accumulation_steps`).

    Example:
    ```python
    scales = layerwise_learning_rate_scales(classifier, layer_decay=0.8)
    classifier.compile(optimizer=LayerwiseAdamW(2e-5, scales))
    ```
    """

    def __init__(self, learning_rate=2e-5, learning_rate_scales=None,
                 weight_decay=0.01,
                 no_weight_decay=NO_WEIGHT_DECAY,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-6, name="adamw",
                 **kwargs):
        kwargs.pop("weight_decay", None)
        # The base class must not decay too: this class applies the decay
        # with each variable's own rate.
        super().__init__(learning_rate=learning_rate, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, name=name,
                         weight_decay=None, **kwargs)
        self.learning_rate_scales = dict(learning_rate_scales or {})
        self.decoupled_weight_decay = float(weight_decay or 0.0)
        self.no_weight_decay = tuple(no_weight_decay)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._scales = [
            float(self.learning_rate_scales.get(v.path, 1.0))
            for v in var_list
        ]
        self._decays = [
            self.decoupled_weight_decay > 0
            and uses_weight_decay(v.path, self.no_weight_decay)
            for v in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        index = compat.optimizer_variable_index(self, variable)
        learning_rate = ops.multiply(
            ops.cast(learning_rate, variable.dtype), self._scales[index]
        )
        if self._decays[index]:
            self.assign_sub(
                variable,
                ops.multiply(variable, ops.multiply(
                    learning_rate, self.decoupled_weight_decay)),
            )
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_scales": self.learning_rate_scales,
            "weight_decay": self.decoupled_weight_decay,
            "no_weight_decay": list(self.no_weight_decay),
        })
        return config
