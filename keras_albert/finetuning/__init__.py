"""Fine-tuning recipes shared by every task: the optimizer and schedule,
layer-wise learning-rate decay, and the `keras-albert finetune` command.

The optimizer building blocks live in `keras_albert.optimizers`; they are
re-exported here under their old names.
"""

from keras_albert.finetuning.finetuning_optimizer import finetuning_optimizer
from keras_albert.optimizers.layer_decay import layerwise_learning_rate_scales
from keras_albert.optimizers.layer_decay import parameter_depths
from keras_albert.optimizers.layerwise_adamw import LayerwiseAdamW

__all__ = [
    "LayerwiseAdamW",
    "finetuning_optimizer",
    "layerwise_learning_rate_scales",
    "parameter_depths",
]
