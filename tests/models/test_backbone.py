"""AlbertBackbone: presets, save/load round trips, input errors."""

import os

import keras
import numpy as np
import pytest

import keras_albert
from keras_albert import AlbertBackbone
from keras_albert import PresetError
from tests import hf_oracle

PUBLISHED_PARAMS = {
    "base": 11_683_584,
    "large": 17_683_968,
    "xlarge": 58_724_864,
    "xxlarge": 222_595_584,
}


@pytest.mark.parametrize("size", sorted(PUBLISHED_PARAMS))
def test_named_presets_have_published_parameter_counts(size):
    model = AlbertBackbone.from_preset(size, load_weights=False)
    assert model.count_params() == PUBLISHED_PARAMS[size]
    assert model.dropout == 0.0


def test_v1_presets_differ_from_v2_only_in_dropout():
    from keras_albert.presets.loader import named_config

    for size in PUBLISHED_PARAMS:
        v1, v2 = named_config(f"{size}-v1"), named_config(f"{size}-v2")
        assert v1.pop("dropout") == 0.1 and v2.pop("dropout") == 0.0
        assert v1.pop("attention_dropout") == 0.1
        v2.pop("attention_dropout")
        assert v1 == v2
    v1 = AlbertBackbone.from_preset("albert_base_v1", load_weights=False)
    assert v1.count_params() == PUBLISHED_PARAMS["base"]


def test_list_presets_names_every_size_and_version():
    names = keras_albert.list_presets()
    for size in PUBLISHED_PARAMS:
        assert f"{size}-v1" in names and f"{size}-v2" in names


def test_pretrained_weights_fail_with_clear_message():
    with pytest.raises(PresetError, match="load_weights=False"):
        AlbertBackbone.from_preset("base")


def test_unknown_preset_and_foreign_directory(tmp_path):
    with pytest.raises(PresetError, match="Unknown preset 'basic'"):
        AlbertBackbone.from_preset("basic")
    with pytest.raises(PresetError, match="not a keras-albert preset"):
        AlbertBackbone.from_preset(str(tmp_path))


@pytest.fixture
def backbone(tiny_config):
    return AlbertBackbone(**tiny_config)


def test_outputs_and_config_roundtrip(backbone):
    inputs = hf_oracle.batch_with_padding()
    out = backbone(inputs)
    assert tuple(out["sequence_output"].shape) == (3, 12, 32)
    assert tuple(out["pooled_output"].shape) == (3, 32)
    clone = AlbertBackbone.from_config(backbone.get_config())
    assert clone.get_config() == backbone.get_config()


def _assert_same_outputs(a, b, inputs):
    out_a, out_b = a.predict(inputs, verbose=0), b.predict(inputs, verbose=0)
    for key in out_a:
        np.testing.assert_array_equal(out_a[key], out_b[key])


def test_keras_file_roundtrip(backbone, tmp_path):
    path = os.path.join(tmp_path, "backbone.keras")
    backbone.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, AlbertBackbone)
    _assert_same_outputs(backbone, restored, hf_oracle.batch_with_padding())


@pytest.mark.parametrize("sharing", ["all", "attention", "ffn", "none"])
def test_preset_directory_roundtrip(tiny_config, tmp_path, sharing):
    backbone = AlbertBackbone(**tiny_config, sharing=sharing,
                              num_hidden_groups=2)
    backbone.save_to_preset(str(tmp_path))
    for name in ("config.json", "model.weights.h5", "metadata.json"):
        assert (tmp_path / name).exists()
    restored = AlbertBackbone.from_preset(str(tmp_path))
    _assert_same_outputs(backbone, restored, hf_oracle.batch_with_padding())
    assert restored.count_params() == backbone.count_params()


def test_preset_overrides(backbone, tmp_path):
    backbone.save_to_preset(str(tmp_path))
    restored = AlbertBackbone.from_preset(str(tmp_path), dropout=0.3)
    assert restored.dropout == 0.3


def test_truncated_weights_file_is_a_clear_error(backbone, tmp_path):
    backbone.save_to_preset(str(tmp_path))
    weights = tmp_path / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(PresetError, match="model.weights.h5"):
        AlbertBackbone.from_preset(str(tmp_path))


def test_bad_inputs_get_clear_errors(backbone):
    good = hf_oracle.batch_with_padding()
    with pytest.raises(ValueError, match="Token id 160 is out of range"):
        backbone(dict(good, token_ids=np.full((3, 12), 160, "int32")))
    with pytest.raises(ValueError, match="Segment id 2 is out of range"):
        backbone(dict(good, segment_ids=np.full((3, 12), 2, "int32")))
    long = {k: np.ones((1, 65), "int32") for k in good}
    with pytest.raises(ValueError, match="longer than the model's"):
        backbone(long)
    with pytest.raises(ValueError, match="same shape"):
        backbone(dict(good, padding_mask=np.ones((3, 11), "int32")))
    with pytest.raises(ValueError, match="(?i)missing"):
        backbone({"token_ids": good["token_ids"]})


def test_bad_inputs_rejected_in_predict(backbone):
    good = hf_oracle.batch_with_padding()
    with pytest.raises(ValueError, match="out of range"):
        backbone.predict(dict(good, token_ids=np.full((3, 12), 999, "int32")),
                         verbose=0)
