"""`LengthBatches` and `PackedRows`: which examples share a batch, and the
padded batches built from rows packed once. No model runs here: NumPy
planning and TensorFlow packing, the same on every Keras backend, so this
runs on the TensorFlow backend only (CI budget)."""

import keras
import numpy as np
import pytest

from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.preprocessing.albert_token_classification_preprocessor import (  # noqa: E501
    AlbertTokenClassificationPreprocessor,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.padding import bucket_widths
from keras_albert.preprocessing.padding import padded_length

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="backend-independent NumPy/TensorFlow code: covered by the "
           "TensorFlow run")

WORDS = ("the quick brown fox jumps over the lazy dog and a lite bert "
         "shares its parameters across all layers").split()


def _texts(count, seed=0):
    """Texts of 1 to 20 words."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, rng.integers(1, 21)))
            for _ in range(count)]


def _covers_once(batches, count):
    flat = np.concatenate(batches)
    return sorted(flat.tolist()) == list(range(count))


def test_inference_sorts_longest_first_and_restores_order():
    lengths = np.array([5, 40, 7, 38, 7, 12, 3])
    batches = LengthBatches(lengths, batch_size=3)
    plan = batches.epoch()
    assert _covers_once(plan, len(lengths))
    order = np.concatenate(plan)
    assert lengths[order].tolist() == sorted(lengths, reverse=True)
    # Equal lengths keep their input order (a stable sort).
    assert order.tolist().index(2) < order.tolist().index(4)
    # Outputs in plan order come back in the caller's order, also nested.
    outputs = {"a": lengths[order] * 10, "b": (lengths[order][:, None],)}
    restored = batches.restore(outputs)
    assert restored["a"].tolist() == (lengths * 10).tolist()
    assert restored["b"][0][:, 0].tolist() == lengths.tolist()
    assert batches.epoch() == plan or all(
        (a == b).all() for a, b in zip(batches.epoch(), plan))
    unsorted = LengthBatches(lengths, batch_size=3, by_length=False)
    assert np.concatenate(unsorted.epoch()).tolist() == list(range(7))


def test_inference_batches_keep_padded_widths_apart():
    lengths = np.random.default_rng(2).integers(3, 120, size=50)

    def width(n):
        return padded_length(n, 8, 128, "auto")

    split = LengthBatches(lengths, batch_size=8, padded_width=width)
    filled = LengthBatches(lengths, batch_size=8, padded_width=width,
                           split_widths=False)
    for batches in (split, filled):
        plan = batches.epoch()
        assert _covers_once(plan, len(lengths))
        assert all(len(b) <= 8 for b in plan)
        order = np.concatenate(plan)
        assert lengths[order].tolist() == sorted(lengths, reverse=True)
    # No row is padded past its own width...
    for indices, w in zip(split.epoch(), split.widths()):
        assert {width(int(n)) for n in lengths[indices]} == {w}
    # ...which filled batches do, at the cost of computed tokens.
    assert any(len({width(int(n)) for n in lengths[b]}) > 1
               for b in filled.epoch())
    assert [len(b) for b in filled.epoch()][:-1] == [8] * (
        filled.num_batches - 1)

    def computed(batches):
        return sum(len(b) * w for b, w in zip(batches.epoch(),
                                               batches.widths()))

    assert computed(split) < computed(filled)
    # Input order (by_length=False) is never split by width.
    plain = LengthBatches(lengths, batch_size=8, by_length=False,
                          padded_width=width)
    assert [len(b) for b in plain.epoch()] == [8] * 6 + [2]
    with pytest.raises(ValueError, match="split_widths"):
        LengthBatches(lengths, split_widths="yes")


@pytest.mark.parametrize("by_length", [True, False])
def test_tokens_per_batch_caps_rows_times_width(by_length):
    lengths = np.random.default_rng(0).integers(3, 120, size=60)
    lengths[7] = 200  # longer than the budget: a batch of its own

    def width(n):
        return padded_length(n, 8, 256, "auto")

    batches = LengthBatches(lengths, batch_size=2, by_length=by_length,
                            tokens_per_batch=160, padded_width=width)
    plan = batches.epoch()
    assert _covers_once(plan, len(lengths))
    for indices, w in zip(plan, batches.widths()):
        assert len(indices) * w <= 160 or len(indices) == 1
    assert [7] in [b.tolist() for b in plan]
    # Short rows fill a batch far beyond `batch_size`.
    assert max(len(b) for b in plan) > 2
    if by_length:
        # Full batches of one width share one shape: at most one more
        # shape per width than widths.
        shapes = {(len(b), w) for b, w in zip(plan, batches.widths())}
        assert len(shapes) <= 2 * len(set(batches.widths()))


def test_training_buckets_lengths_and_reshuffles_every_epoch():
    rng = np.random.default_rng(1)
    # Two clearly separate length groups, interleaved.
    lengths = np.where(np.arange(32) % 2, rng.integers(40, 48, 32),
                       rng.integers(3, 9, 32))

    def width(n):
        return padded_length(n, 8, 64, "auto")

    batches = LengthBatches(lengths, batch_size=4, shuffle=True, seed=3,
                            padded_width=width)
    epochs = [batches.epoch() for _ in range(3)]
    for plan in epochs:
        assert _covers_once(plan, 32) and len(plan) == batches.num_batches
        # Every batch holds one length group only: near-equal lengths.
        for indices in plan:
            assert len({width(int(n)) for n in lengths[indices]}) == 1
    orders = [tuple(np.concatenate(plan).tolist()) for plan in epochs]
    assert len(set(orders)) == 3
    compositions = [{tuple(sorted(b.tolist())) for b in plan}
                    for plan in epochs]
    assert compositions[0] != compositions[1]
    plain = LengthBatches(lengths, batch_size=4, shuffle=True, seed=3,
                          by_length=False)
    plan = plain.epoch()
    assert _covers_once(plan, 32)
    mixed = [b for b in plan if len({width(int(n)) for n in lengths[b]}) > 1]
    assert mixed  # plain shuffling mixes short and long examples
    with pytest.raises(ValueError, match="tokens_per_batch"):
        LengthBatches(lengths, shuffle=True, tokens_per_batch=64)


@pytest.mark.parametrize("value", [0, -3, 2.5, "64", True])
def test_bad_tokens_per_batch(value):
    with pytest.raises(ValueError, match="tokens_per_batch"):
        LengthBatches([3, 4], tokens_per_batch=value)


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


@pytest.mark.parametrize("buckets", ["auto", (12, 20), None])
def test_packed_rows_pad_like_the_layer(tokenizer, buckets):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32,
                             length_buckets=buckets)
    texts = np.array(_texts(40), dtype=object)
    pre._packing_chunk = 16  # packed in three chunks
    rows = pre.packed_rows(texts, len(texts))
    assert len(rows) == 40
    widths = set()
    for indices in LengthBatches(rows.lengths, batch_size=3,
                                 padded_width=pre.padded_width).epoch():
        got = pre.pad_packed(rows, indices)
        want = pre(list(texts[indices]))
        for key in want:
            np.testing.assert_array_equal(got[key], np.asarray(want[key]))
        widths.add(got["token_ids"].shape[1])
    allowed = bucket_widths(buckets, 32)
    if allowed is not None:
        # A varied set of batches sees no more widths than buckets.
        assert widths <= set(allowed) and len(widths) <= len(allowed)


def test_multiple_choice_packed_rows(tokenizer):
    pre = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=32)
    texts = _texts(6)
    x = {"article": np.array(texts, dtype=object),
         "question": np.array(texts[::-1], dtype=object),
         "options": np.array([[t[:5], t[-7:]] for t in texts], dtype=object)}
    rows = pre.packed_rows(x, 6)
    assert rows.rows_per_example == 2 and len(rows) == 6
    got = pre.pad_packed(rows, np.array([4, 1]))
    want = pre({k: v[[4, 1]] for k, v in x.items()})
    for key in want:
        np.testing.assert_array_equal(got[key], np.asarray(want[key]))


@pytest.mark.parametrize("cls, kwargs", [
    (AlbertPreprocessor, {}),
    (AlbertMultipleChoicePreprocessor, {}),
    (AlbertQuestionAnsweringPreprocessor, {}),
    (AlbertTokenClassificationPreprocessor, {}),
])
def test_every_preprocessor_checks_and_saves_buckets(tokenizer, cls, kwargs):
    for bad in ([24, 16], [0, 8], [16, 40], [], "fast"):
        with pytest.raises(ValueError, match="length_buckets"):
            cls(tokenizer, sequence_length=32, length_buckets=bad)
    pre = cls(tokenizer, sequence_length=32, length_buckets=(8, 16))
    config = pre.get_config()
    assert config["length_buckets"] == [8, 16]
    assert cls.from_config(config).length_buckets == (8, 16)
    assert cls(tokenizer, sequence_length=32).get_config()[
        "length_buckets"] == "auto"
    assert pre.padded_width(9) == 16 and pre.padded_width(17) == 32
    flat = cls(tokenizer, sequence_length=32, length_buckets=None)
    assert flat.padded_width(9) == 16 and flat.padded_width(17) == 24


def test_python_preprocessor_datasets_bucket(tokenizer):
    """The token-classification and QA datasets: batches by length."""
    pre = AlbertTokenClassificationPreprocessor(tokenizer, sequence_length=32)
    sentences = [t.split() for t in _texts(12)]
    tags = [[0] * len(s) for s in sentences]
    ds = pre.dataset(sentences, tags, batch_size=4, bucket_by_length=True)
    widths = [x["padding_mask"].shape[1] for x, _, _ in ds]
    lengths = [int(n) for x, _, _ in ds
               for n in x["padding_mask"].numpy().sum(1)]
    assert lengths == sorted(lengths, reverse=True)
    assert set(widths) <= set(bucket_widths("auto", 32))
    qa = AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=32)
    texts = _texts(6)
    features = qa.featurize(texts, texts[::-1])
    ds = qa.make_dataset(features, batch_size=100, tokens_per_batch=64)
    for x in ds:
        rows, width = x["token_ids"].shape
        assert rows * width <= 64 or rows == 1
    assert sum(x["token_ids"].shape[0] for x in ds) == len(
        features["token_ids"])
