"""AlbertPreprocessor: layout, truncation, dynamic padding, tf.data."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer


@pytest.fixture
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def test_single_text_layout(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=64)
    out = _np(pre(["the quick fox"]))
    ids = tokenizer.tokenize_tf(["the quick fox"]).to_list()[0]
    n = len(ids) + 2
    assert out["token_ids"][0, :n].tolist() == [2] + ids + [3]
    assert out["token_ids"].shape[1] % 8 == 0
    assert out["padding_mask"][0].tolist() == [1] * n + [0] * (
        out["token_ids"].shape[1] - n)
    assert out["segment_ids"].sum() == 0


def test_pair_layout(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=64)
    out = _np(pre((["the fox"], ["lazy dog"])))
    a = tokenizer.tokenize_tf(["the fox"]).to_list()[0]
    b = tokenizer.tokenize_tf(["lazy dog"]).to_list()[0]
    n = len(a) + len(b) + 3
    assert out["token_ids"][0, :n].tolist() == [2] + a + [3] + b + [3]
    assert out["segment_ids"][0, :n].tolist() == [0] * (len(a) + 2) + [1] * (
        len(b) + 1)


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_truncation(tokenizer, truncate):
    long_a = "the quick brown fox jumps over the lazy dog " * 5
    long_b = "good movies make people happy " * 5
    pre = AlbertPreprocessor(tokenizer, sequence_length=20, truncate=truncate)
    out = _np(pre(([long_a], [long_b])))
    assert out["token_ids"].shape == (1, 20)
    assert out["padding_mask"].sum() == 20
    assert (out["token_ids"][0] == 3).sum() == 2
    segment_b = int(out["segment_ids"].sum())
    if truncate == "round_robin":
        assert segment_b == 9  # 17 tokens shared 9/8, b keeps its [SEP]
    else:
        assert segment_b == 1  # a takes the whole budget


def test_dynamic_padding_to_batch_longest(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=512)
    out = _np(pre(["hi", "the fox"]))
    assert out["token_ids"].shape[1] == 8
    longer = _np(pre(["the quick brown fox jumps over the lazy dog"]))
    assert longer["token_ids"].shape[1] % 8 == 0
    assert 8 < longer["token_ids"].shape[1] < 64
    capped = AlbertPreprocessor(tokenizer, sequence_length=10)
    assert _np(capped(["the quick brown fox jumps over"]))[
        "token_ids"].shape[1] == 10


def test_runs_in_tf_data_with_labels(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32)
    texts = ["the fox", "a dog", "the quick brown fox jumps", "hi"]
    ds = tf.data.Dataset.from_tensor_slices((texts, [0, 1, 0, 1])).batch(2)
    batches = list(ds.map(pre))
    assert len(batches) == 2
    x, y = batches[1]
    assert set(x) == {"token_ids", "segment_ids", "padding_mask"}
    assert y.numpy().tolist() == [0, 1]
    # Each batch pads to its own longest sequence.
    assert x["token_ids"].shape[1] % 8 == 0


def test_single_string_and_config_roundtrip(tokenizer, spm_path):
    pre = AlbertPreprocessor(tokenizer, sequence_length=16,
                             truncate="waterfall")
    single = _np(pre("the fox"))
    assert single["token_ids"].ndim == 1
    config = pre.get_config()
    clone = AlbertPreprocessor.from_config(config)
    clone.tokenizer.set_proto(spm_path)
    np.testing.assert_array_equal(_np(clone(["the fox"]))["token_ids"],
                                  _np(pre(["the fox"]))["token_ids"])
    assert clone.truncate == "waterfall"


def test_bad_arguments(tokenizer):
    with pytest.raises(ValueError, match="truncate"):
        AlbertPreprocessor(tokenizer, truncate="middle")
    with pytest.raises(ValueError, match="sequence_length"):
        AlbertPreprocessor(tokenizer, sequence_length=2)
    pre = AlbertPreprocessor(tokenizer)
    with pytest.raises(ValueError, match="not a dict"):
        pre({"text": ["x"]})


def test_empty_and_non_ascii_text(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=16)
    out = _np(pre(["", "Ünïcödé ☃ text"]))
    assert out["token_ids"][0, :2].tolist() == [2, 3]
    assert out["padding_mask"][0].sum() == 2
