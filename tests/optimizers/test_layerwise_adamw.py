"""`LayerwiseAdamW`: AdamW with a learning-rate multiplier per variable."""

import keras
import numpy as np

from keras_albert.optimizers import LayerwiseAdamW
from keras_albert.optimizers import layerwise_learning_rate_scales
from tests.optimizers.helpers import tiny_classifier
from tests.optimizers.helpers import train_steps


def test_unscaled_equals_keras_adamw():
    keras.utils.set_random_seed(3)
    a = tiny_classifier()
    b = tiny_classifier()
    b.set_weights(a.get_weights())
    ours = train_steps(a, LayerwiseAdamW(1e-2, weight_decay=0.1,
                                         no_weight_decay=()))
    reference = keras.optimizers.AdamW(1e-2, weight_decay=0.1, epsilon=1e-6)
    theirs = train_steps(b, reference)
    for path in ours:
        np.testing.assert_allclose(ours[path], theirs[path], atol=1e-6,
                                   err_msg=path)


def test_scales_shrink_each_variables_steps():
    keras.utils.set_random_seed(4)
    model = tiny_classifier()
    before = {v.path: keras.ops.convert_to_numpy(v)
              for v in model.trainable_variables}
    scales = layerwise_learning_rate_scales(model, 0.5)
    full = tiny_classifier()
    full.set_weights(model.get_weights())
    after = train_steps(model, LayerwiseAdamW(1e-3, scales,
                                              weight_decay=0.0), steps=1)
    after_full = train_steps(full, LayerwiseAdamW(1e-3, weight_decay=0.0),
                             steps=1)
    for path, scale in scales.items():
        step = after[path] - before[path]
        step_full = after_full[path] - before[path]
        # One Adam step is lr * g / (|g| + eps): halving lr halves it.
        np.testing.assert_allclose(step, scale * step_full, atol=1e-7,
                                   err_msg=path)


def test_weight_decay_skips_biases_and_layer_norms():
    keras.utils.set_random_seed(5)
    model = tiny_classifier()
    before = {v.path: keras.ops.convert_to_numpy(v)
              for v in model.trainable_variables}
    # Same step with and without decay: the difference is lr * wd * w,
    # except where decay is excluded.
    twin = tiny_classifier()
    twin.set_weights(model.get_weights())
    decayed = train_steps(model, LayerwiseAdamW(1e-2, weight_decay=0.5),
                          steps=1)
    plain = train_steps(twin, LayerwiseAdamW(1e-2, weight_decay=0.0),
                        steps=1)
    for path in decayed:
        expected = plain[path] - 1e-2 * 0.5 * before[path]
        if "bias" in path or "layer_norm" in path:
            np.testing.assert_allclose(decayed[path], plain[path], atol=1e-7)
        else:
            np.testing.assert_allclose(decayed[path], expected, atol=1e-6,
                                       err_msg=path)


def test_config_round_trip():
    opt = LayerwiseAdamW(3e-5, {"a/b": 0.5}, weight_decay=0.02,
                         no_weight_decay=("bias",))
    clone = LayerwiseAdamW.from_config(opt.get_config())
    assert clone.learning_rate_scales == {"a/b": 0.5}
    assert clone.decoupled_weight_decay == 0.02
    assert clone.no_weight_decay == ("bias",)
