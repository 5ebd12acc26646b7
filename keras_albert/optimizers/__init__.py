"""Optimizers and learning-rate schedules shared by fine-tuning and
pretraining: ALBERT's fine-tuning AdamW and its weight-decay rule, AdamW
with per-variable rates, layer-wise rate decay and the warm-up + polynomial
decay schedule.

Backend-agnostic; imports only Keras.
"""

from keras_albert.optimizers.finetuning_adamw import finetuning_adamw
from keras_albert.optimizers.layer_decay import layerwise_learning_rate_scales
from keras_albert.optimizers.layer_decay import parameter_depths
from keras_albert.optimizers.layerwise_adamw import LayerwiseAdamW
from keras_albert.optimizers.schedules import WarmupPolynomialDecay
from keras_albert.optimizers.weight_decay import NO_WEIGHT_DECAY
from keras_albert.optimizers.weight_decay import uses_weight_decay

__all__ = [
    "NO_WEIGHT_DECAY",
    "LayerwiseAdamW",
    "WarmupPolynomialDecay",
    "finetuning_adamw",
    "layerwise_learning_rate_scales",
    "parameter_depths",
    "uses_weight_decay",
]
