"""Layer-wise learning-rate decay over ALBERT's distinct parameter
groups."""

import pytest

from keras_albert.optimizers import layerwise_learning_rate_scales
from keras_albert.optimizers import parameter_depths
from tests.optimizers.helpers import tiny_classifier


def _by_prefix(depths):
    out = {}
    for path, depth in depths.items():
        prefix = path.split("/")[0] if not path.startswith("encoder/") else (
            "/".join(path.split("/")[:2]))
        out.setdefault(prefix, set()).add(depth)
    return out


def test_depths_with_full_sharing():
    depths, top = parameter_depths(tiny_classifier())
    assert top == 2
    assert _by_prefix(depths) == {
        "embeddings": {0}, "encoder/group_0_inner_0": {1}, "pooler": {2},
        "logits": {2},
    }


def test_depths_follow_distinct_groups_and_unshared_layers():
    depths, top = parameter_depths(tiny_classifier(num_layers=4,
                                                   num_hidden_groups=2))
    assert top == 3
    groups = _by_prefix(depths)
    assert groups["encoder/group_0_inner_0"] == {1}
    assert groups["encoder/group_1_inner_0"] == {2}

    depths, top = parameter_depths(tiny_classifier(num_layers=3,
                                                   sharing="none"))
    assert top == 4
    groups = _by_prefix(depths)
    assert [groups[f"encoder/layer_{i}_inner_0"] for i in range(3)] == [
        {1}, {2}, {3}]


def test_scales_decay_towards_the_embeddings():
    model = tiny_classifier()
    scales = layerwise_learning_rate_scales(model, 0.5)
    assert scales["embeddings/token_embeddings"] == 0.25
    assert scales["encoder/group_0_inner_0/attention/query/kernel"] == 0.5
    assert scales["logits/kernel"] == 1.0
    assert set(scales) == {v.path for v in model.trainable_variables}
    with pytest.raises(ValueError, match="layer_decay"):
        layerwise_learning_rate_scales(model, 0.0)
