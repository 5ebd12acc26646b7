"""`save_to_preset(format="hf")`: transformers loads it, same outputs."""

import json
import os

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertPretrainer
from keras_albert import AlbertTokenizer
from tests import hf_oracle
from tests.presets import sources

ATOL = 1e-5


def _randomize(model, seed=0):
    """Every weight random (not 0/1), so mis-wired tensors show up."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = rng.normal(0, 0.05, tuple(variable.shape))
        if "gamma" in variable.path:
            value += 1.0
        variable.assign(value.astype("float32"))


def _transformers(cls_name, path):
    import transformers

    return getattr(transformers, cls_name).from_pretrained(path).eval()


@pytest.mark.parametrize("grouping", [{}, sources.TWO_GROUPS],
                         ids=["1group", "2groups"])
def test_backbone_exports_to_albert_model(tmp_path, grouping):
    ours = AlbertBackbone(**hf_oracle.backbone_kwargs(**grouping))
    _randomize(ours)
    ours.save_to_preset(tmp_path, format="hf")
    with open(tmp_path / "config.json") as f:
        assert json.load(f)["architectures"] == ["AlbertModel"]
    hf = _transformers("AlbertModel", str(tmp_path))
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(inputs, verbose=0)
    valid = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(got["sequence_output"][valid],
                               expected.last_hidden_state.numpy()[valid],
                               atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got["pooled_output"],
                               expected.pooler_output.numpy(), atol=ATOL,
                               rtol=1e-5)


def test_pretrainer_exports_and_comes_back(tmp_path):
    ours = AlbertPretrainer(AlbertBackbone(**hf_oracle.backbone_kwargs()))
    _randomize(ours, seed=1)
    ours.save_to_preset(tmp_path, format="hf")
    hf = _transformers("AlbertForPreTraining", str(tmp_path))
    inputs = hf_oracle.batch_with_padding()
    positions = np.array([[1, 2, 5], [3, 4, 1], [1, 2, 3]], "int32")
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    want = np.take_along_axis(expected.prediction_logits.numpy(),
                              positions[:, :, None], axis=1)
    np.testing.assert_allclose(got["mlm"], want, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got["sop"], expected.sop_logits.numpy(),
                               atol=ATOL, rtol=1e-5)
    # The same folder also loads as a masked LM, in transformers and here.
    mlm = _transformers("AlbertForMaskedLM", str(tmp_path))
    np.testing.assert_allclose(
        hf_oracle.hf_forward(mlm, inputs).logits.numpy(),
        expected.prediction_logits.numpy(), atol=ATOL, rtol=1e-5,
    )
    from keras_albert.presets import loader

    back = loader.load_task(AlbertMaskedLM, AlbertBackbone, str(tmp_path))
    np.testing.assert_allclose(
        back.predict(dict(inputs, mask_positions=positions), verbose=0),
        got["mlm"], atol=ATOL, rtol=1e-5,
    )


def test_classifier_exports_with_spiece(tmp_path, spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ours = AlbertClassifier(
        AlbertBackbone(**hf_oracle.backbone_kwargs()), num_classes=4,
        preprocessor=AlbertPreprocessor(tokenizer, sequence_length=16),
    )
    _randomize(ours, seed=2)
    ours.save_to_preset(tmp_path, format="hf")
    with open(tmp_path / "spiece.model", "rb") as f, open(spm_path, "rb") as g:
        assert f.read() == g.read()
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    assert config["architectures"] == ["AlbertForSequenceClassification"]
    assert config["num_labels"] == 4
    hf = _transformers("AlbertForSequenceClassification", str(tmp_path))
    inputs = hf_oracle.batch_with_padding()
    np.testing.assert_allclose(
        ours.predict(inputs, verbose=0),
        hf_oracle.hf_forward(hf, inputs).logits.numpy(), atol=ATOL,
        rtol=1e-5,
    )


def test_masked_lm_export_writes_safetensors_only(tmp_path):
    ours = AlbertMaskedLM(AlbertBackbone(**hf_oracle.backbone_kwargs()))
    _randomize(ours, seed=3)
    ours.save_to_preset(tmp_path, format="hf")
    assert sorted(os.listdir(tmp_path)) == ["config.json",
                                            "model.safetensors"]
    hf = _transformers("AlbertForMaskedLM", str(tmp_path))
    inputs = hf_oracle.batch_with_padding()
    positions = np.tile(np.arange(12, dtype="int32"), (3, 1))
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    valid = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(
        got[valid], hf_oracle.hf_forward(hf, inputs).logits.numpy()[valid],
        atol=ATOL, rtol=1e-5,
    )


def test_unknown_format_is_refused(tmp_path):
    ours = AlbertBackbone(**hf_oracle.backbone_kwargs())
    with pytest.raises(ValueError, match="keras_albert, hf, google"):
        ours.save_to_preset(tmp_path, format="onnx")
