"""Fine-tuning recipes shared by every task: the optimizer and schedule,
layer-wise learning-rate decay, and the `keras-albert finetune` command.

The optimizer building blocks live in `keras_albert.optimizers`; they are
re-exported here under their old names. Names are imported on first use, so
the command's parser (`finetune_cli`) loads without Keras."""

from typing import TYPE_CHECKING

from keras_albert.utils.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from keras_albert.finetuning.finetuning_optimizer import (
        finetuning_optimizer,
    )
    from keras_albert.optimizers.layer_decay import (
        layerwise_learning_rate_scales,
    )
    from keras_albert.optimizers.layer_decay import parameter_depths
    from keras_albert.optimizers.layerwise_adamw import LayerwiseAdamW

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "LayerwiseAdamW": "keras_albert.optimizers.layerwise_adamw",
    "finetuning_optimizer": "keras_albert.finetuning.finetuning_optimizer",
    "layerwise_learning_rate_scales": "keras_albert.optimizers.layer_decay",
    "parameter_depths": "keras_albert.optimizers.layer_decay",
})
