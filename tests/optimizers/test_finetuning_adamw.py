"""`finetuning_adamw` and its weight-decay rule: biases and LayerNorm
parameters are not decayed, weight matrices and embeddings are, and the
tasks' `compile()` default is this optimizer."""

import keras
import numpy as np

from keras_albert.optimizers import LayerwiseAdamW
from keras_albert.optimizers import finetuning_adamw
from keras_albert.optimizers import uses_weight_decay
from tests.optimizers.helpers import tiny_classifier


def test_rule_excludes_exactly_biases_and_layer_norms_of_albert():
    paths = [v.path for v in tiny_classifier().trainable_variables]
    kept = {p for p in paths if not uses_weight_decay(p)}
    # What the rule should mean, by each variable's own name.
    assert kept == {p for p in paths
                    if p.rsplit("/", 1)[-1] in ("bias", "gamma", "beta")}
    assert "embeddings/layer_norm/gamma" in kept
    assert "encoder/group_0_inner_0/feedforward/layer_norm/beta" in kept
    assert "pooler/bias" in kept
    assert "embeddings/token_embeddings" not in kept
    assert "encoder/group_0_inner_0/attention/query/kernel" not in kept
    assert "logits/kernel" not in kept


def test_recipe_settings():
    optimizer = finetuning_adamw()
    assert isinstance(optimizer, LayerwiseAdamW)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == (
        np.float32(2e-5))
    assert optimizer.decoupled_weight_decay == 0.01
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (
        0.9, 0.999, 1e-6)
    assert optimizer.no_weight_decay == ("bias", "layer_norm")
    assert optimizer.learning_rate_scales == {}


def test_compile_default_decays_kernels_only():
    model = tiny_classifier()
    model.compile()
    optimizer = model.optimizer
    assert isinstance(optimizer, LayerwiseAdamW)
    assert optimizer.decoupled_weight_decay == 0.01
    # At the default 2e-5 one decay step (w * 2e-7) is below float32's
    # resolution; a larger rate makes it measurable, the rule is the same.
    learning_rate = 0.1
    optimizer.learning_rate = learning_rate
    variables = model.trainable_variables
    before = {v.path: keras.ops.convert_to_numpy(v) for v in variables}
    # Zero gradients: Adam's own step is exactly 0, only the decay moves.
    optimizer.apply_gradients(
        [(keras.ops.zeros(v.shape, v.dtype), v) for v in variables])
    decayed = []
    for v in variables:
        after = keras.ops.convert_to_numpy(v)
        if v.path.rsplit("/", 1)[-1] in ("bias", "gamma", "beta"):
            np.testing.assert_array_equal(after, before[v.path],
                                          err_msg=v.path)
        else:
            np.testing.assert_allclose(
                after, before[v.path] * (1 - learning_rate * 0.01),
                rtol=1e-6, atol=1e-9, err_msg=v.path)
            decayed.append(v.path)
    assert "embeddings/layer_norm/gamma" in before
    assert "logits/kernel" in decayed and "embeddings/token_embeddings" in (
        decayed)
