"""AlbertPreprocessor: layout, truncation, dynamic padding, tf.data."""

import keras
import numpy as np
import pytest
import sentencepiece as spm
import tensorflow as tf

from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer

CLS, SEP = 2, 3
LONG_A = "the quick brown fox jumps over the lazy dog " * 4
LONG_B = "good movies make people happy " * 4


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _ids(tokenizer, text):
    return tokenizer.tokenize_tf([text]).to_list()[0]


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def test_single_text_layout(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=64)
    out = _np(pre(["The Quick fox", "a"]))
    assert set(out) == {"token_ids", "segment_ids", "padding_mask"}
    assert all(v.dtype == np.int32 for v in out.values())
    ids = _ids(tokenizer, "The Quick fox")
    n = len(ids) + 2
    width = out["token_ids"].shape[1]
    assert out["token_ids"][0].tolist() == [CLS] + ids + [SEP] + [0] * (
        width - n)
    assert out["padding_mask"][0].tolist() == [1] * n + [0] * (width - n)
    assert out["segment_ids"].sum() == 0
    short = [CLS] + _ids(tokenizer, "a") + [SEP]
    assert out["token_ids"][1, :len(short)].tolist() == short
    assert out["padding_mask"][1].sum() == len(short)


def test_pair_layout(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=64)
    a, b = _ids(tokenizer, "the fox"), _ids(tokenizer, "Lazy dog")
    n = len(a) + len(b) + 3
    for x in [(["the fox"], ["Lazy dog"]),
              (np.array(["the fox"]), tf.constant(["Lazy dog"]))]:
        out = _np(pre(x))
        assert out["token_ids"][0, :n].tolist() == (
            [CLS] + a + [SEP] + b + [SEP])
        assert out["token_ids"][0, n:].sum() == 0
        assert out["segment_ids"][0].tolist() == (
            [0] * (len(a) + 2) + [1] * (len(b) + 1)
            + [0] * (out["segment_ids"].shape[1] - n))
        assert out["padding_mask"][0].sum() == n


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_pair_truncation(tokenizer, truncate):
    a, b = _ids(tokenizer, LONG_A), _ids(tokenizer, LONG_B)
    assert len(a) > 17 and len(b) > 17
    pre = AlbertPreprocessor(tokenizer, sequence_length=20, truncate=truncate)
    out = _np(pre(([LONG_A], [LONG_B])))
    assert out["token_ids"].shape == (1, 20)
    assert out["padding_mask"].sum() == 20
    # 20 - 3 specials = 17 text tokens.
    keep_a, keep_b = (9, 8) if truncate == "round_robin" else (17, 0)
    expected = [CLS] + a[:keep_a] + [SEP] + b[:keep_b] + [SEP]
    assert out["token_ids"][0].tolist() == expected
    assert out["segment_ids"][0].sum() == keep_b + 1


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_single_truncation(tokenizer, truncate):
    pre = AlbertPreprocessor(tokenizer, sequence_length=10, truncate=truncate,
                             pad_to_multiple_of=8)
    out = _np(pre([LONG_A, "a"]))
    # Rounded up to 16 but capped at sequence_length.
    assert out["token_ids"].shape == (2, 10)
    assert out["token_ids"][0].tolist() == (
        [CLS] + _ids(tokenizer, LONG_A)[:8] + [SEP])


def test_dynamic_padding(tokenizer):
    # The default pads to the smallest of a few widths ("auto" buckets:
    # 16, 24, 32, 48, ...) that holds the batch's longest sequence.
    pre = AlbertPreprocessor(tokenizer, sequence_length=512)
    out = _np(pre(["hi", "the fox"]))
    assert out["token_ids"].shape[1] == 16
    medium = "the quick brown fox jumps over the lazy dog"
    length = len(_ids(tokenizer, medium)) + 2
    assert length > 8
    assert _np(pre(["hi", medium]))["token_ids"].shape[1] == min(
        w for w in (16, 24, 32, 48, 64) if w >= length)
    # `length_buckets=None`: the longest rounded up to `pad_to_multiple_of`.
    pre = AlbertPreprocessor(tokenizer, sequence_length=512,
                             length_buckets=None)
    out = _np(pre(["hi", "the fox"]))
    assert out["token_ids"].shape[1] == 8
    longer = _np(pre(["hi", medium]))
    assert longer["token_ids"].shape[1] == -(-length // 8) * 8 < 64
    exact = AlbertPreprocessor(tokenizer, sequence_length=512,
                               pad_to_multiple_of=1, length_buckets=None)
    assert _np(exact(["hi", medium]))["token_ids"].shape[1] == length
    capped = _np(AlbertPreprocessor(tokenizer, sequence_length=30)([LONG_A]))
    assert capped["token_ids"].shape[1] == 30


def test_unbatched_inputs(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32)
    single = _np(pre("the fox"))
    assert single["token_ids"].ndim == 1
    np.testing.assert_array_equal(
        single["token_ids"], _np(pre(["the fox"]))["token_ids"][0])
    pair = _np(pre(("the fox", "a dog")))
    np.testing.assert_array_equal(
        pair["segment_ids"], _np(pre((["the fox"], ["a dog"])))[
            "segment_ids"][0])


def test_labels_pass_through(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32)
    x, y = pre(["the fox", "a"], [1, 0])
    assert keras.ops.convert_to_numpy(y).tolist() == [1, 0]
    x, y, sw = pre(["the fox", "a"], y=[1, 0], sample_weight=[0.5, 1.0])
    assert keras.ops.convert_to_numpy(sw).tolist() == [0.5, 1.0]
    # One packed tuple: text plus labels, or a pair of texts plus labels.
    x, y = pre((["the fox", "a"], np.array([1, 0])))
    assert set(x) == {"token_ids", "segment_ids", "padding_mask"}
    x, y = pre(((["the fox"], ["a dog"]), [1]))
    assert keras.ops.convert_to_numpy(x["segment_ids"]).max() == 1


def test_runs_in_tf_data(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32)
    texts = ["the fox", "a dog", LONG_B, "hi"]
    ds = tf.data.Dataset.from_tensor_slices((texts, [0, 1, 0, 1])).batch(2)
    batches = list(ds.map(pre))
    assert len(batches) == 2
    (x0, _), (x1, y1) = batches
    assert y1.numpy().tolist() == [0, 1]
    # Each batch pads to its own longest sequence's bucket.
    assert x0["token_ids"].shape[1] == 16
    assert x1["token_ids"].shape[1] == 32
    eager = _np(pre(texts[2:]))
    np.testing.assert_array_equal(x1["token_ids"].numpy(), eager["token_ids"])

    pairs = tf.data.Dataset.from_tensor_slices(
        ((["the fox", "a"], ["x", "hi"]),)).batch(2).map(pre)
    (x,) = list(pairs)
    assert x["segment_ids"].numpy().max() == 1


def test_config_round_trip(tokenizer, tmp_path):
    pre = AlbertPreprocessor(tokenizer, sequence_length=16,
                             truncate="waterfall", pad_to_multiple_of=4)
    config = pre.get_config()
    assert config["tokenizer"]["class_name"] == "AlbertTokenizer"
    clone = AlbertPreprocessor.from_config(config)
    assert (clone.sequence_length, clone.truncate,
            clone.pad_to_multiple_of) == (16, "waterfall", 4)
    # The SentencePiece model travels as an asset, not in the config.
    tokenizer.save_assets(str(tmp_path))
    clone.tokenizer.load_assets(str(tmp_path))
    x = ([LONG_A, "the fox"], [LONG_B, "a"])
    for key, value in _np(pre(x)).items():
        np.testing.assert_array_equal(_np(clone(x))[key], value)

    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(pre))
    assert isinstance(restored, AlbertPreprocessor)
    assert isinstance(restored.tokenizer, AlbertTokenizer)


def test_tokenizer_with_its_own_sequence_length(spm_path):
    padded = AlbertTokenizer(proto=spm_path, sequence_length=4)
    plain = AlbertTokenizer(proto=spm_path)
    x = ["the quick fox", "a"]
    a = _np(AlbertPreprocessor(padded, sequence_length=64)(x))
    b = _np(AlbertPreprocessor(plain, sequence_length=64)(x))
    # The tokenizer's own truncation applies first; its padding is dropped.
    # Padded to the smallest "auto" width, 16.
    assert a["token_ids"][0].tolist() == (
        [CLS] + _ids(plain, x[0])[:4] + [SEP] + [0] * 10)
    np.testing.assert_array_equal(a["token_ids"][1], b["token_ids"][1, :16])


def test_bad_arguments(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="truncate"):
        AlbertPreprocessor(tokenizer, truncate="middle")
    with pytest.raises(ValueError, match="sequence_length"):
        AlbertPreprocessor(tokenizer, sequence_length=2)
    with pytest.raises(ValueError, match="pad_to_multiple_of"):
        AlbertPreprocessor(tokenizer, pad_to_multiple_of=0)
    pre = AlbertPreprocessor(tokenizer)
    with pytest.raises(ValueError, match="not a dict"):
        pre({"text": ["x"]})
    with pytest.raises(ValueError, match="both be batches"):
        pre(("single", ["batch"]))
    # A model without ALBERT's specials cannot make a tokenizer at all.
    prefix = str(tmp_path / "plain")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["hello world", "plain model"] * 50),
        model_prefix=prefix, vocab_size=20, hard_vocab_limit=False,
        minloglevel=2,
    )
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        AlbertPreprocessor(AlbertTokenizer(proto=prefix + ".model"))


def test_empty_and_non_ascii_text(tokenizer):
    pre = AlbertPreprocessor(tokenizer, sequence_length=16)
    out = _np(pre(["", "Ünïcödé ☃ text"]))
    assert out["token_ids"][0, :2].tolist() == [CLS, SEP]
    assert out["padding_mask"][0].sum() == 2
