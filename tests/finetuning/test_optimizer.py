"""Layer-wise learning-rate decay and the fine-tuning optimizer."""

import keras
import numpy as np
import pytest

from keras_albert.finetuning import LayerwiseAdamW
from keras_albert.finetuning import finetuning_optimizer
from keras_albert.finetuning import layerwise_learning_rate_scales
from keras_albert.finetuning import parameter_depths
from tests.conftest import TINY_CONFIG


def _classifier(**overrides):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    backbone = AlbertBackbone(**dict(TINY_CONFIG, **overrides))
    return AlbertClassifier(backbone, num_classes=3, dropout=0.0)


def _by_prefix(depths):
    out = {}
    for path, depth in depths.items():
        prefix = path.split("/")[0] if not path.startswith("encoder/") else (
            "/".join(path.split("/")[:2]))
        out.setdefault(prefix, set()).add(depth)
    return out


def test_depths_with_full_sharing():
    depths, top = parameter_depths(_classifier())
    assert top == 2
    assert _by_prefix(depths) == {
        "embeddings": {0}, "encoder/group_0_inner_0": {1}, "pooler": {2},
        "logits": {2},
    }


def test_depths_follow_distinct_groups_and_unshared_layers():
    depths, top = parameter_depths(_classifier(num_layers=4,
                                               num_hidden_groups=2))
    assert top == 3
    groups = _by_prefix(depths)
    assert groups["encoder/group_0_inner_0"] == {1}
    assert groups["encoder/group_1_inner_0"] == {2}

    depths, top = parameter_depths(_classifier(num_layers=3, sharing="none"))
    assert top == 4
    groups = _by_prefix(depths)
    assert [groups[f"encoder/layer_{i}_inner_0"] for i in range(3)] == [
        {1}, {2}, {3}]


def test_scales_decay_towards_the_embeddings():
    model = _classifier()
    scales = layerwise_learning_rate_scales(model, 0.5)
    assert scales["embeddings/token_embeddings"] == 0.25
    assert scales["encoder/group_0_inner_0/attention/query/kernel"] == 0.5
    assert scales["logits/kernel"] == 1.0
    assert set(scales) == {v.path for v in model.trainable_variables}
    with pytest.raises(ValueError, match="layer_decay"):
        layerwise_learning_rate_scales(model, 0.0)


def _train_steps(model, optimizer, steps=3):
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(0, 100, (4, 8)).astype("int32"),
        "segment_ids": np.zeros((4, 8), "int32"),
        "padding_mask": np.ones((4, 8), "int32"),
    }
    y = np.array([0, 1, 2, 1])
    model.compile(optimizer=optimizer, loss=keras.losses.
                  SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(steps):
        model.train_on_batch(x, y)
    return {v.path: keras.ops.convert_to_numpy(v)
            for v in model.trainable_variables}


def test_unscaled_equals_keras_adamw():
    keras.utils.set_random_seed(3)
    a = _classifier()
    b = _classifier()
    b.set_weights(a.get_weights())
    ours = _train_steps(a, LayerwiseAdamW(1e-2, weight_decay=0.1,
                                          no_weight_decay=()))
    reference = keras.optimizers.AdamW(1e-2, weight_decay=0.1, epsilon=1e-6)
    theirs = _train_steps(b, reference)
    for path in ours:
        np.testing.assert_allclose(ours[path], theirs[path], atol=1e-6,
                                   err_msg=path)


def test_scales_shrink_each_variables_steps():
    keras.utils.set_random_seed(4)
    model = _classifier()
    before = {v.path: keras.ops.convert_to_numpy(v)
              for v in model.trainable_variables}
    scales = layerwise_learning_rate_scales(model, 0.5)
    full = _classifier()
    full.set_weights(model.get_weights())
    after = _train_steps(model, LayerwiseAdamW(1e-3, scales,
                                               weight_decay=0.0), steps=1)
    after_full = _train_steps(full, LayerwiseAdamW(1e-3, weight_decay=0.0),
                              steps=1)
    for path, scale in scales.items():
        step = after[path] - before[path]
        step_full = after_full[path] - before[path]
        # One Adam step is lr * g / (|g| + eps): halving lr halves it.
        np.testing.assert_allclose(step, scale * step_full, atol=1e-7,
                                   err_msg=path)


def test_weight_decay_skips_biases_and_layer_norms():
    keras.utils.set_random_seed(5)
    model = _classifier()
    before = {v.path: keras.ops.convert_to_numpy(v)
              for v in model.trainable_variables}
    # Same step with and without decay: the difference is lr * wd * w,
    # except where decay is excluded.
    twin = _classifier()
    twin.set_weights(model.get_weights())
    decayed = _train_steps(model, LayerwiseAdamW(1e-2, weight_decay=0.5),
                           steps=1)
    plain = _train_steps(twin, LayerwiseAdamW(1e-2, weight_decay=0.0),
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


def test_finetuning_optimizer_warms_up_then_decays_linearly():
    model = _classifier()
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
