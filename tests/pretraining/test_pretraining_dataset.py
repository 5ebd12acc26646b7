"""Streaming pipeline and TFRecords: the pretraining batch contract."""

import os

import numpy as np
import pytest

from keras_albert.pretraining.pretraining_dataset import (
    iter_pretraining_instances,
)
from keras_albert.pretraining.pretraining_dataset import (
    make_pretraining_dataset,
)
from keras_albert.pretraining.tfrecords import count_tfrecord_examples
from keras_albert.pretraining.tfrecords import read_tfrecords
from keras_albert.pretraining.tfrecords import write_tfrecords
from tests.conftest import TINY_CORPUS

L, P, B = 32, 6, 4
# 20 documents of 12 consecutive sentences.
DOCS = [TINY_CORPUS[i:i + 12] for i in range(0, len(TINY_CORPUS), 12)]


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    from keras_albert.preprocessing import AlbertTokenizer

    return AlbertTokenizer(proto=spm_path)


def _stream(tokenizer, **kwargs):
    kwargs = {"sequence_length": L, "max_predictions_per_seq": P,
              "batch_size": B, "seed": 11, "shuffle_buffer": 0, **kwargs}
    return make_pretraining_dataset(DOCS, tokenizer, **kwargs)


def _numpy(dataset):
    return list(dataset.as_numpy_iterator())


def _assert_same(batches_a, batches_b):
    assert len(batches_a) == len(batches_b) > 0
    for a, b in zip(batches_a, batches_b):
        for part_a, part_b in zip(a, b):
            for key in part_a:
                np.testing.assert_array_equal(part_a[key], part_b[key])


def test_contract(tokenizer):
    import tensorflow as tf

    ds = _stream(tokenizer)
    x_spec, y_spec, w_spec = ds.element_spec
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert x_spec[key] == tf.TensorSpec((B, L), tf.int32)
    assert x_spec["mask_positions"] == tf.TensorSpec((B, P), tf.int32)
    assert y_spec == {"mlm": tf.TensorSpec((B, P), tf.int32),
                      "sop": tf.TensorSpec((B,), tf.int32)}
    assert w_spec == {"mlm": tf.TensorSpec((B, P), tf.float32),
                      "sop": tf.TensorSpec((B,), tf.float32)}

    # Unshuffled, the first pass holds exactly these pairs, in order.
    instances = list(iter_pretraining_instances(DOCS, tokenizer,
                                                sequence_length=L, seed=11))
    batches = _numpy(ds)
    assert len(batches) == len(instances) // B
    specials = [0, tokenizer.cls_token_id, tokenizer.sep_token_id,
                tokenizer.mask_token_id]
    n_pred = n_tok = 0
    for b, (x, y, w) in enumerate(batches):
        assert (w["sop"] == 1.0).all()
        for i in range(B):
            inst = instances[b * B + i]
            n = len(inst.token_ids)
            original = np.zeros(L, np.int32)
            original[:n] = inst.token_ids
            np.testing.assert_array_equal(x["segment_ids"][i, :n],
                                          inst.segment_ids)
            assert (x["segment_ids"][i, n:] == 0).all()
            np.testing.assert_array_equal(x["padding_mask"][i],
                                          (np.arange(L) < n).astype(int))
            assert y["sop"][i] == inst.sop_label
            k = int(w["mlm"][i].sum())
            assert (w["mlm"][i, :k] == 1).all() and (w["mlm"][i, k:] == 0).all()
            positions = x["mask_positions"][i, :k]
            np.testing.assert_array_equal(y["mlm"][i, :k], original[positions])
            assert (y["mlm"][i, k:] == 0).all()
            assert not np.isin(original[positions], specials).any()
            # Only predicted positions are corrupted.
            untouched = np.ones(L, bool)
            untouched[positions] = False
            np.testing.assert_array_equal(x["token_ids"][i][untouched],
                                          original[untouched])
            n_pred += k
            n_tok += n
    assert 0.10 < n_pred / n_tok < 0.17


def test_new_masks_each_epoch_and_same_seed_same_data(tokenizer):
    ds = _stream(tokenizer, shuffle_buffer=64)
    first, second = _numpy(ds), _numpy(ds)
    # Each pass re-packs the pairs (short lengths, split points, swaps), so
    # the number of examples may differ slightly between passes.
    assert abs(len(first) - len(second)) <= 2
    n = min(len(first), len(second))
    masks_1 = np.concatenate([x["mask_positions"] for x, _, _ in first])
    masks_2 = np.concatenate([x["mask_positions"] for x, _, _ in second])
    assert not np.array_equal(masks_1[:n * B], masks_2[:n * B])
    # A new dataset with the same seed replays the same epochs.
    again = _stream(tokenizer, shuffle_buffer=64)
    _assert_same(first, _numpy(again))
    _assert_same(second, _numpy(again))
    other = _numpy(_stream(tokenizer, shuffle_buffer=64, seed=12))
    masks_3 = np.concatenate([x["mask_positions"] for x, _, _ in other])
    n = min(len(masks_1), len(masks_3))
    assert not np.array_equal(masks_1[:n], masks_3[:n])
    # repeat=True: consecutive passes differ the same way.
    rep = _stream(tokenizer, shuffle_buffer=64, repeat=True)
    batches = _numpy(rep.take(len(first) + len(second)))
    _assert_same(first, batches[:len(first)])
    _assert_same(second, batches[len(first):])


def test_text_files_streamed_without_cache(tokenizer, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(" ".join(d) for d in DOCS))
    ds = make_pretraining_dataset(str(path), tokenizer, sequence_length=L,
                                  max_predictions_per_seq=P, batch_size=B,
                                  seed=0, cache_tokens=False, progress=True)
    assert len(_numpy(ds)) == len(_numpy(ds)) > 5


def test_pretrainer_fits_the_stream(tokenizer, tiny_config):
    import keras

    from keras_albert import AlbertBackbone
    from keras_albert import AlbertPretrainer

    model = AlbertPretrainer(AlbertBackbone(**tiny_config))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(_stream(tokenizer).take(3), verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_tfrecords_unmasked_round_trip_equals_stream(tokenizer, tmp_path):
    instances = iter_pretraining_instances(DOCS, tokenizer,
                                           sequence_length=L, seed=11)
    write_tfrecords(instances, tmp_path, num_shards=1, progress=False)
    assert count_tfrecord_examples(tmp_path) > 20
    read = read_tfrecords(tmp_path, tokenizer, batch_size=B,
                          max_predictions_per_seq=P, seed=11,
                          shuffle_buffer=0)
    # Same pairs, same per-batch mask seeds: the very same batches.
    _assert_same(_numpy(_stream(tokenizer)), _numpy(read))
    # Masks are still drawn afresh at each pass over the records.
    first, second = _numpy(read), _numpy(read)
    assert not all(np.array_equal(a[0]["mask_positions"],
                                  b[0]["mask_positions"])
                   for a, b in zip(first, second))


def test_tfrecords_masked_round_trip_sharded(tokenizer, tmp_path):
    stream = _numpy(_stream(tokenizer))
    paths = write_tfrecords(_stream(tokenizer), tmp_path, num_shards=3,
                            compression="GZIP", progress=False)
    assert len(paths) == 3 and all(p.endswith(".tfrecord.gz") for p in paths)
    read = read_tfrecords(str(tmp_path / "*.tfrecord.gz"), batch_size=B,
                          seed=0, shuffle_buffer=0)
    assert read.element_spec == _stream(tokenizer).element_spec
    got = _numpy(read)
    assert len(got) == len(stream)

    def rows(batches):
        out = []
        for x, y, w in batches:
            for i in range(B):
                out.append(np.concatenate(
                    [x[k][i] for k in ("token_ids", "segment_ids",
                                       "padding_mask", "mask_positions")]
                    + [y["mlm"][i], [y["sop"][i]], w["mlm"][i].astype(int)]))
        return sorted(map(tuple, out))

    # Shards interleave, so compare the sets of rows; stored masks are fixed.
    assert rows(got) == rows(stream)
    assert rows(_numpy(read)) == rows(stream)


def test_batched_tokenization_matches_tokenizer(tokenizer):
    import tensorflow as tf

    from keras_albert.pretraining.pretraining_dataset import tokenize_documents

    docs = [["The QUICK  brown fox.", "Café, naïve and résumé."],
            ["``Quoted'' text\twith\ttabs.", "  "], DOCS[0]]
    got = list(tokenize_documents(docs, tokenizer, batch_size=3))
    assert len(got) == 3
    for (flat, splits), doc in zip(got, docs):
        # The reference is the tokenizer's in-graph path, as tf.data runs it.
        ds = tf.data.Dataset.from_tensors(doc).map(tokenizer.tokenize_tf)
        expected = next(iter(ds)).to_list()
        assert [flat[a:b].tolist() for a, b in zip(splits[:-1], splits[1:])
                ] == expected


def test_tfrecords_static_masks_from_instances(tokenizer, tmp_path):
    from keras_albert.pretraining.ngram_masking import NgramMasker

    masker = NgramMasker.from_tokenizer(tokenizer, max_predictions_per_seq=P)
    instances = list(iter_pretraining_instances(DOCS, tokenizer,
                                                sequence_length=L, seed=3))
    write_tfrecords(instances, tmp_path, num_shards=2, masker=masker, seed=0,
                    sequence_length=L, progress=False)
    read = read_tfrecords(tmp_path, batch_size=B, shuffle_buffer=0,
                          drop_remainder=False)
    first, second = _numpy(read), _numpy(read)
    _assert_same(first, second)  # stored masks do not change
    x, y, w = first[0]
    assert x["token_ids"].shape == (B, L) and y["mlm"].shape == (B, P)
    assert sum(len(b[1]["sop"]) for b in first) == len(instances)
    assert (w["mlm"].sum(1) > 0).all()
    rows, slots = np.nonzero(w["mlm"])
    assert (x["token_ids"][rows, x["mask_positions"][rows, slots]]
            != y["mlm"][rows, slots]).mean() > 0.7


def test_tfrecords_replace_a_previous_set_whole_or_not_at_all(tokenizer,
                                                             tmp_path):
    from tests.utils.test_atomic_files import tree

    def instances():
        return iter_pretraining_instances(DOCS, tokenizer,
                                          sequence_length=L, seed=11)

    write_tfrecords(instances(), tmp_path, num_shards=4, progress=False)
    (tmp_path / "README.txt").write_text("mine")
    before = tree(str(tmp_path))

    def failing():
        yield from list(instances())[:5]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_tfrecords(failing(), tmp_path, num_shards=2, progress=False)
    assert tree(str(tmp_path)) == before  # the previous set, untouched
    assert sorted(os.listdir(tmp_path)) == sorted(before)

    total = count_tfrecord_examples(tmp_path)
    paths = write_tfrecords(instances(), tmp_path, num_shards=2,
                            progress=False)
    # The 4 earlier shards are gone: a reader never mixes two sets.
    assert sorted(os.listdir(tmp_path)) == sorted(
        [os.path.basename(p) for p in paths]
        + ["README.txt", "pretraining_meta.json"])
    assert count_tfrecord_examples(tmp_path) == total
