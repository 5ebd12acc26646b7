"""Sharded TFRecords of pretraining examples, for reuse at scale.

Storage choice: by default records hold *unmasked* pairs (token ids of
`[CLS] A [SEP] B [SEP]` plus the sentence-order label) and masks are drawn
when reading, so every epoch still sees new masks, as with the streaming
pipeline, and one copy of the data serves any `max_predictions_per_seq` or
masking rate. Writing a masked `tf.data.Dataset` (or passing `masker=`)
stores fixed masks instead, like Google's `create_pretraining_data.py`;
reading then reproduces exactly what was written. Either way reading gives
the same `(x, y, sample_weight)` triples as `make_pretraining_dataset`.

Layout: `output_dir/pretraining-00000-of-00008.tfrecord[.gz]` plus
`output_dir/pretraining_meta.json` (format, sequence length, counts), which
`read_tfrecords` uses to know what it is reading. Segment ids are not stored:
they follow from the first `[SEP]`.
"""

import json
import os
import re

import numpy as np

from keras_albert.utils.atomic_files import atomic_files

META_FILE = "pretraining_meta.json"
FORMAT = "keras_albert.pretraining.v1"
# Names of the shards `write_tfrecords` writes.
_SHARD_RE = re.compile(r"^pretraining-\d{5}-of-\d{5}\.tfrecord(\.gz)?$")


def _int_feature(values):
    import tensorflow as tf

    return tf.train.Feature(int64_list=tf.train.Int64List(
        value=np.asarray(values, dtype=np.int64).tolist()))


def _serialize(token_ids, sop_label, positions=None, labels=None):
    import tensorflow as tf

    feature = {"token_ids": _int_feature(token_ids),
               "sop_label": _int_feature([sop_label])}
    if positions is not None:
        feature["mask_positions"] = _int_feature(positions)
        feature["mask_ids"] = _int_feature(labels)
    return tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()


def _rows_from_dataset(dataset):
    """Unpadded masked rows from a dataset of contract triples."""
    for x, y, sw in dataset.as_numpy_iterator():
        lengths = x["padding_mask"].sum(axis=1)
        counts = (sw["mlm"] > 0).sum(axis=1)
        for i in range(len(lengths)):
            n, k = int(lengths[i]), int(counts[i])
            yield (x["token_ids"][i, :n], int(y["sop"][i]),
                   x["mask_positions"][i, :k], y["mlm"][i, :k])


def _rows_from_instances(instances, masker, rng):
    for inst in instances:
        if masker is None:
            yield inst.token_ids, inst.sop_label, None, None
        else:
            masked, positions, labels = masker.mask(inst.token_ids, rng)
            yield masked, inst.sop_label, positions, labels


def write_tfrecords(examples, output_dir, num_shards=8, masker=None,
                    seed=None, sequence_length=None, compression=None,
                    progress=True):
    """Writes pretraining examples to sharded TFRecord files.

    Args:
        examples: an iterable of `PretrainingInstance` (e.g. from
            `iter_pretraining_instances`; stored unmasked unless `masker` is
            given) or a `tf.data.Dataset` of contract triples (e.g. from
            `make_pretraining_dataset`; stored with its masks, one pass).
        output_dir: str. Directory to create/fill. The shards and
            `pretraining_meta.json` replace those of an earlier call
            together, once all are written (other files are kept).
        num_shards: int. Files to spread examples over (round robin), so
            readers can interleave them in parallel.
        masker: optional `NgramMasker` to store fixed masks for instances.
        seed: optional int for `masker`.
        sequence_length: int. Length examples are padded to when read.
            Defaults to the dataset's length or the longest instance written.
        compression: `None` or `"GZIP"`.
        progress: bool. tqdm bar over examples written.

    Returns:
        The list of shard paths.

    Example:
    ```python
    instances = iter_pretraining_instances("corpus/", tokenizer, seed=0)
    write_tfrecords(instances, "records/", num_shards=16,
                    sequence_length=128)
    ds = read_tfrecords("records/", tokenizer, batch_size=32)
    ```
    """
    import tensorflow as tf

    os.makedirs(output_dir, exist_ok=True)
    suffix = ".tfrecord" + (".gz" if compression == "GZIP" else "")
    paths = [os.path.join(output_dir, f"pretraining-{i:05d}-of-"
                          f"{num_shards:05d}{suffix}")
             for i in range(num_shards)]
    max_predictions = None
    if isinstance(examples, tf.data.Dataset):
        x_spec = examples.element_spec[0]
        sequence_length = sequence_length or x_spec["token_ids"].shape[-1]
        max_predictions = x_spec["mask_positions"].shape[-1]
        rows = _rows_from_dataset(examples)
        masked = True
    else:
        rng = np.random.default_rng(seed)
        rows = _rows_from_instances(examples, masker, rng)
        masked = masker is not None
        if masked:
            max_predictions = masker.max_predictions_per_seq
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(unit="ex", desc="writing TFRecords")
    options = tf.io.TFRecordOptions(compression_type=compression or "")
    # The shards and their metadata replace a previous set together (meta
    # last), or not at all; shards of a previous set with another shard
    # count go too, so readers never mix two sets.
    names = sorted(
        {n for n in os.listdir(output_dir) if _SHARD_RE.match(n)}
        - {os.path.basename(p) for p in paths}
    ) + [os.path.basename(p) for p in paths] + [META_FILE]
    with atomic_files(output_dir, names) as staging:
        writers = [tf.io.TFRecordWriter(
            os.path.join(staging, os.path.basename(p)), options)
            for p in paths]
        count, longest = 0, 0
        try:
            for token_ids, sop, positions, labels in rows:
                writers[count % num_shards].write(
                    _serialize(token_ids, sop, positions, labels))
                count += 1
                longest = max(longest, len(token_ids))
                if bar is not None and count % 1000 == 0:
                    bar.update(1000)
        finally:
            for w in writers:
                w.close()
            if bar is not None:
                bar.update(count % 1000)
                bar.close()
        sequence_length = int(sequence_length or longest)
        if longest > sequence_length:
            raise ValueError(f"An example has {longest} tokens, more than "
                             f"sequence_length={sequence_length}.")
        meta = {"format": FORMAT, "masked": masked,
                "sequence_length": sequence_length,
                "max_predictions_per_seq": max_predictions,
                "num_examples": count, "num_shards": num_shards,
                "compression": compression}
        with open(os.path.join(staging, META_FILE), "w") as f:
            json.dump(meta, f, indent=2)
    return paths


def _files_and_meta(pattern):
    import tensorflow as tf

    pattern = os.fspath(pattern)
    if tf.io.gfile.isdir(pattern):
        directory = pattern
        pattern = os.path.join(pattern, "*.tfrecord*")
    else:
        directory = os.path.dirname(pattern)
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"No TFRecord files match {pattern!r}.")
    meta_path = os.path.join(directory, META_FILE)
    meta = {}
    if tf.io.gfile.exists(meta_path):
        with tf.io.gfile.GFile(meta_path) as f:
            meta = json.load(f)
    return files, meta


def read_tfrecords(file_pattern, tokenizer=None, batch_size=32,
                   sequence_length=None, max_predictions_per_seq=None,
                   masked_lm_prob=0.15, max_ngram=3, whole_word=True,
                   seed=None, repeat=False, shuffle_buffer=10_000,
                   drop_remainder=True, compression=None,
                   num_parallel_calls=None, prefetch=True):
    """Reads pretraining TFRecords back as contract triples.

    Args:
        file_pattern: a directory written by `write_tfrecords` or a glob of
            its shards.
        tokenizer: an `AlbertTokenizer`; needed to mask unmasked records (its
            `[MASK]` id, specials and word boundaries) and to find `[SEP]`.
        batch_size: int.
        sequence_length: int. Defaults to the value in the metadata.
        max_predictions_per_seq: int. Defaults to the metadata (masked
            records) or 20.
        masked_lm_prob, max_ngram, whole_word: masking options (unmasked
            records only).
        seed: optional int. Shard order, shuffling and masks.
        repeat: bool. Repeat forever, with new shuffles and masks each pass.
        shuffle_buffer: int. Example-level shuffle buffer (0 to disable).
        drop_remainder: bool. Keep every batch at the static shape.
        compression: `None`/`"GZIP"`; defaults to the metadata.
        num_parallel_calls: parallelism for masking (default AUTOTUNE).
        prefetch: bool.

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` triples.

    Example:
    ```python
    ds = read_tfrecords("records/", tokenizer, batch_size=32, seed=0,
                        repeat=True)
    pretrainer.fit(ds, steps_per_epoch=1000, epochs=10)
    ```
    """
    import tensorflow as tf

    from keras_albert.pretraining.ngram_masking import NgramMasker
    from keras_albert.pretraining.pretraining_dataset import _resolve_seed
    from keras_albert.pretraining.pretraining_dataset import mask_and_format

    files, meta = _files_and_meta(file_pattern)
    masked = bool(meta.get("masked", False))
    sequence_length = int(sequence_length or meta.get("sequence_length")
                          or 0)
    if not sequence_length:
        raise ValueError("sequence_length is unknown (no metadata file); "
                         "pass it.")
    max_predictions_per_seq = int(max_predictions_per_seq or meta.get(
        "max_predictions_per_seq") or 20)
    if compression is None:
        compression = meta.get("compression")
    if compression is None and files[0].endswith(".gz"):
        compression = "GZIP"
    if tokenizer is None and not masked:
        raise ValueError("Unmasked records need `tokenizer` to be masked.")
    sep_id = tokenizer.sep_token_id if tokenizer is not None else 3
    pad_id = tokenizer.pad_token_id if tokenizer is not None else 0
    seed = _resolve_seed(seed)
    if num_parallel_calls is None:
        num_parallel_calls = tf.data.AUTOTUNE

    file_ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_buffer:
        file_ds = file_ds.shuffle(len(files), seed=seed,
                                  reshuffle_each_iteration=True)
    ds = file_ds.interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
        cycle_length=min(len(files), 8), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed,
                        reshuffle_each_iteration=True)
    # Parsing whole batches at once is much cheaper than example by example.
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    features = {"token_ids": tf.io.RaggedFeature(tf.int64),
                "sop_label": tf.io.FixedLenFeature([], tf.int64)}
    if masked:
        features["mask_positions"] = tf.io.RaggedFeature(tf.int64)
        features["mask_ids"] = tf.io.RaggedFeature(tf.int64)

    def dense(ragged, width):
        ragged = tf.cast(ragged, tf.int32)
        return ragged.to_tensor(default_value=0,
                                shape=[None, width])

    def parse(serialized):
        ex = tf.io.parse_example(serialized, features)
        token_ids = dense(ex["token_ids"], sequence_length)
        # Segment 1 starts right after the first [SEP].
        is_sep = tf.cast(tf.equal(token_ids, sep_id), tf.int32)
        after_sep = tf.cumsum(is_sep, axis=1, exclusive=True) > 0
        not_pad = tf.not_equal(token_ids, pad_id)
        segment_ids = tf.cast(after_sep & not_pad, tf.int32)
        sop = tf.cast(ex["sop_label"], tf.int32)
        if not masked:
            return token_ids, segment_ids, sop
        positions = dense(ex["mask_positions"], max_predictions_per_seq)
        mask_ids = dense(ex["mask_ids"], max_predictions_per_seq)
        weights = tf.cast(ex["mask_positions"].row_lengths(), tf.int32)
        weights = tf.cast(
            tf.sequence_mask(weights, max_predictions_per_seq), tf.float32)
        x = {"token_ids": token_ids, "segment_ids": segment_ids,
             "padding_mask": tf.cast(not_pad, tf.int32),
             "mask_positions": positions}
        y = {"mlm": mask_ids, "sop": sop}
        sample_weight = {"mlm": weights,
                         "sop": tf.ones_like(sop, dtype=tf.float32)}
        return x, y, sample_weight

    ds = ds.map(parse, num_parallel_calls=num_parallel_calls)
    if not masked:
        masker = NgramMasker.from_tokenizer(
            tokenizer, whole_word=whole_word, masked_lm_prob=masked_lm_prob,
            max_predictions_per_seq=max_predictions_per_seq,
            max_ngram=max_ngram)
        ds = mask_and_format(ds, masker, seed, num_parallel_calls)
    if repeat:
        ds = ds.repeat()
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def count_tfrecord_examples(file_pattern):
    """Number of examples, from the metadata when present (else counted).

    Example:
    ```python
    steps = count_tfrecord_examples("records/") // 32
    ```
    """
    import tensorflow as tf

    files, meta = _files_and_meta(file_pattern)
    if "num_examples" in meta:
        return int(meta["num_examples"])
    compression = "GZIP" if files[0].endswith(".gz") else None
    return sum(1 for _ in tf.data.TFRecordDataset(
        files, compression_type=compression))


__all__ = ["write_tfrecords", "read_tfrecords", "count_tfrecord_examples"]
