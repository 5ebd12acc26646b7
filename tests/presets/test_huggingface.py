"""Hugging Face folders in (safetensors and .bin), same numbers out."""

import logging

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertPretrainer
from keras_albert.presets import loader
from tests import hf_oracle
from tests.presets import sources

ATOL = 1e-5


def _valid(inputs):
    return inputs["padding_mask"].astype(bool)


@pytest.mark.parametrize(
    "grouping,safe",
    [
        pytest.param({}, True, id="1group-safetensors"),
        pytest.param(sources.TWO_GROUPS, False, id="2groups-bin"),
    ],
)
def test_backbone_from_hf_dir(tmp_path, grouping, safe):
    hf = hf_oracle.hf_model("AlbertModel", **grouping)
    path = sources.save_hf(hf, tmp_path, safe=safe)
    assert loader.resolve(path) == ("hf_dir", path)
    ours = AlbertBackbone.from_preset(path)
    assert ours.num_hidden_groups == grouping.get("num_hidden_groups", 1)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(inputs, verbose=0)
    np.testing.assert_allclose(
        got["sequence_output"][_valid(inputs)],
        expected.last_hidden_state.numpy()[_valid(inputs)], atol=ATOL,
        rtol=1e-5,
    )
    np.testing.assert_allclose(got["pooled_output"],
                               expected.pooler_output.numpy(), atol=ATOL,
                               rtol=1e-5)


@pytest.mark.parametrize(
    "grouping,safe",
    [
        pytest.param(sources.TWO_GROUPS, True, id="2groups-safetensors"),
        pytest.param({}, False, id="1group-bin"),
    ],
)
def test_masked_lm_from_hf_dir(tmp_path, grouping, safe, caplog):
    hf = hf_oracle.hf_model("AlbertForMaskedLM", **grouping)
    path = sources.save_hf(hf, tmp_path, safe=safe)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = loader.load_task(AlbertMaskedLM, AlbertBackbone, path)
    # transformers' MLM model has no pooler: reported, in one line.
    reports = [r.getMessage() for r in caplog.records]
    assert len(reports) == 1 and "bert/pooler/dense/kernel" in reports[0]
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    positions = np.tile(np.arange(12, dtype="int32"), (3, 1))
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    np.testing.assert_allclose(got[_valid(inputs)],
                               expected[_valid(inputs)], atol=ATOL,
                               rtol=1e-5)


def test_pretrainer_from_hf_dir(tmp_path, caplog):
    hf = hf_oracle.hf_model("AlbertForPreTraining", **sources.TWO_GROUPS)
    path = sources.save_hf(hf, tmp_path, safe=False)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = loader.load_task(AlbertPretrainer, AlbertBackbone, path)
    assert not caplog.records  # every head came from the checkpoint
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    positions = np.array([[1, 2, 5], [3, 4, 1], [1, 2, 3]], "int32")
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    want = np.take_along_axis(expected.prediction_logits.numpy(),
                              positions[:, :, None], axis=1)
    np.testing.assert_allclose(got["mlm"], want, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got["sop"], expected.sop_logits.numpy(),
                               atol=ATOL, rtol=1e-5)


def test_classifier_from_hf_dir_with_tokenizer(tmp_path, spm_path, caplog):
    hf = hf_oracle.hf_model("AlbertForSequenceClassification", num_labels=3)
    path = sources.save_hf(hf, tmp_path, spm_path=spm_path)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = loader.load_task(AlbertClassifier, AlbertBackbone, path)
    assert not caplog.records
    assert ours.num_classes == 3  # taken from config.json
    with open(spm_path, "rb") as f:
        assert ours.preprocessor.tokenizer.proto == f.read()
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    np.testing.assert_allclose(ours.predict(inputs, verbose=0), expected,
                               atol=ATOL, rtol=1e-5)


def test_missing_and_mismatched_heads_are_reported(tmp_path, caplog):
    hf = hf_oracle.hf_model("AlbertForSequenceClassification", num_labels=3)
    path = sources.save_hf(hf, tmp_path)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = loader.load_task(AlbertClassifier, AlbertBackbone, path,
                                num_classes=5)
    (report,) = [r.getMessage() for r in caplog.records]
    assert "classifier/kernel" in report and "fresh" in report
    assert ours.head.kernel.shape == (32, 5)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        loader.load_task(AlbertPretrainer, AlbertBackbone, path)
    (report,) = [r.getMessage() for r in caplog.records]
    assert "cls/seq_relationship/output_weights" in report
    assert "cls/predictions/output_bias" in report


def test_task_from_preset_loads_source_head(tmp_path):
    hf = hf_oracle.hf_model("AlbertForSequenceClassification", num_labels=3)
    path = sources.save_hf(hf, tmp_path)
    ours = AlbertClassifier.from_preset(path)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    np.testing.assert_allclose(ours.predict(inputs, verbose=0), expected,
                               atol=ATOL, rtol=1e-5)
