"""`finetuning_optimizer`: the fine-tuning schedule and layer-wise decay on
top of `finetuning_adamw`."""

import keras
import numpy as np
import pytest

from keras_albert.finetuning import finetuning_optimizer
from tests.optimizers.helpers import tiny_batch
from tests.optimizers.helpers import tiny_classifier


def test_finetuning_optimizer_warms_up_then_decays_linearly():
    model = tiny_classifier()
    opt = finetuning_optimizer(model, 1e-4, total_steps=100,
                               warmup_ratio=0.1, layer_decay=0.8)
    schedule = opt._learning_rate
    values = [float(keras.ops.convert_to_numpy(schedule(step)))
              for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(values, [0.0, 5e-5, 1e-4, 5e-5, 0.0],
                               atol=1e-9)
    assert opt.learning_rate_scales["embeddings/token_embeddings"] == (
        pytest.approx(0.64))
    with pytest.raises(ValueError, match="warmup_ratio"):
        finetuning_optimizer(model, total_steps=10, warmup_ratio=1.5)


def test_equals_the_tasks_compile_default_step_for_step():
    keras.utils.set_random_seed(6)
    default = tiny_classifier()
    recipe = tiny_classifier()
    recipe.set_weights(default.get_weights())
    default.compile()
    recipe.compile(optimizer=finetuning_optimizer(recipe, layer_decay=1.0,
                                                  total_steps=None))
    # Only the explicit all-ones scales differ in their configs.
    config = default.optimizer.get_config()
    assert config.pop("learning_rate_scales") == {}
    theirs = recipe.optimizer.get_config()
    assert set(theirs.pop("learning_rate_scales").values()) == {1.0}
    assert config == theirs

    x, y = tiny_batch()
    for step in range(3):
        default.train_on_batch(x, y)
        recipe.train_on_batch(x, y)
        for got, want in zip(default.trainable_variables,
                             recipe.trainable_variables):
            assert got.path == want.path
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(got),
                keras.ops.convert_to_numpy(want),
                err_msg=f"{got.path} after step {step + 1}")


def test_moved_names_stay_importable_from_finetuning():
    import keras_albert.finetuning
    import keras_albert.optimizers

    for name in ("LayerwiseAdamW", "layerwise_learning_rate_scales",
                 "parameter_depths"):
        assert getattr(keras_albert.finetuning, name) is getattr(
            keras_albert.optimizers, name)
