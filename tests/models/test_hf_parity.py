"""Same weights in as Hugging Face `transformers`, same numbers out."""

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertPretrainer
from keras_albert.presets.huggingface_names import hf_state_to_google
from keras_albert.presets.weight_layout import assign_google_arrays
from tests import hf_oracle

GROUPINGS = [
    pytest.param({}, id="1group-1inner"),
    pytest.param(
        dict(num_hidden_groups=2, inner_group_num=2, num_hidden_layers=4),
        id="2groups-2inner",
    ),
]
ATOL = 1e-5


def _load(model, hf):
    arrays, unknown = hf_state_to_google(hf_oracle.hf_state(hf))
    assert not unknown
    return assign_google_arrays(model, arrays)


def _valid_positions(inputs):
    return inputs["padding_mask"].astype(bool)


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_backbone_matches_transformers(grouping):
    hf = hf_oracle.hf_model("AlbertModel", **grouping)
    ours = AlbertBackbone(**hf_oracle.backbone_kwargs(**grouping))
    assert _load(ours, hf) == []
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(inputs, verbose=0)
    valid = _valid_positions(inputs)
    np.testing.assert_allclose(
        got["sequence_output"][valid],
        expected.last_hidden_state.numpy()[valid], atol=ATOL, rtol=1e-5,
    )
    np.testing.assert_allclose(
        got["pooled_output"], expected.pooler_output.numpy(), atol=ATOL,
        rtol=1e-5,
    )
    assert ours.count_params() == sum(
        p.numel() for p in hf.parameters()
    )


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_masked_lm_matches_transformers(grouping):
    hf = hf_oracle.hf_model("AlbertForMaskedLM", **grouping)
    backbone = AlbertBackbone(**hf_oracle.backbone_kwargs(**grouping))
    ours = AlbertMaskedLM(backbone)
    # transformers' AlbertForMaskedLM has no pooler; ours reports it.
    assert _load(ours, hf) == ["bert/pooler/dense/kernel",
                               "bert/pooler/dense/bias"]
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    length = inputs["token_ids"].shape[1]
    positions = np.tile(np.arange(length, dtype="int32"), (3, 1))
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    valid = _valid_positions(inputs)
    np.testing.assert_allclose(got[valid], expected[valid], atol=ATOL,
                               rtol=1e-5)


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_pretrainer_matches_transformers(grouping):
    hf = hf_oracle.hf_model("AlbertForPreTraining", **grouping)
    backbone = AlbertBackbone(**hf_oracle.backbone_kwargs(**grouping))
    ours = AlbertPretrainer(backbone)
    assert _load(ours, hf) == []
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    positions = np.array([[1, 2, 5], [3, 4, 1], [1, 2, 3]], "int32")
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    mlm = expected.prediction_logits.numpy()
    want = np.take_along_axis(mlm, positions[:, :, None], axis=1)
    np.testing.assert_allclose(got["mlm"], want, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(
        got["sop"], expected.sop_logits.numpy(), atol=ATOL, rtol=1e-5
    )


def test_hidden_states_match_transformers():
    hf = hf_oracle.hf_model("AlbertModel", num_hidden_layers=3)
    backbone = AlbertBackbone(**hf_oracle.backbone_kwargs(num_hidden_layers=3))
    _load(backbone, hf)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs, output_hidden_states=True)
    x = backbone.embeddings(inputs["token_ids"], inputs["segment_ids"])
    _, states = backbone.encoder(
        x, padding_mask=inputs["padding_mask"], return_hidden_states=True
    )
    assert len(states) == 4
    valid = _valid_positions(inputs)
    for ours, theirs in zip(states, expected.hidden_states):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours)[valid], theirs.numpy()[valid], atol=ATOL,
            rtol=1e-5,
        )
