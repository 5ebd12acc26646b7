"""KerasHub ALBERT presets (what the kaggle:// handles hold) load exactly."""

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert.presets import loader
from tests import hf_oracle

keras_hub = pytest.importorskip("keras_hub")
ATOL = 1e-5


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = rng.normal(0, 0.05, tuple(variable.shape))
        if "gamma" in variable.path:
            value += 1.0
        variable.assign(value.astype("float32"))


def _hub_backbone():
    return keras_hub.models.AlbertBackbone(
        vocabulary_size=160, num_layers=4, num_heads=2, embedding_dim=16,
        hidden_dim=32, intermediate_dim=64, num_groups=2,
        num_inner_repetitions=2, max_sequence_length=64,
    )


def test_keras_hub_backbone_preset(tmp_path):
    hub = _hub_backbone()
    _randomize(hub)
    hub.save_to_preset(str(tmp_path))
    assert loader.resolve(str(tmp_path))[0] == "keras_hub_dir"
    ours = AlbertBackbone.from_preset(str(tmp_path))
    assert (ours.num_hidden_groups, ours.inner_group_num) == (2, 2)
    inputs = hf_oracle.batch_with_padding()
    expected = hub.predict(inputs, verbose=0)
    got = ours.predict(inputs, verbose=0)
    valid = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(got["sequence_output"][valid],
                               expected["sequence_output"][valid],
                               atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got["pooled_output"],
                               expected["pooled_output"], atol=ATOL,
                               rtol=1e-5)


def test_keras_hub_text_classifier_preset(tmp_path):
    hub = keras_hub.models.AlbertTextClassifier(
        _hub_backbone(), num_classes=3, preprocessor=None
    )
    _randomize(hub, seed=1)
    hub.save_to_preset(str(tmp_path))
    ours = loader.load_task(AlbertClassifier, AlbertBackbone, str(tmp_path))
    assert ours.num_classes == 3
    inputs = hf_oracle.batch_with_padding()
    np.testing.assert_allclose(ours.predict(inputs, verbose=0),
                               hub.predict(inputs, verbose=0), atol=ATOL,
                               rtol=1e-5)
