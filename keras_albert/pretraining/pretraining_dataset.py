"""Streaming `tf.data` pipeline of ALBERT pretraining batches.

Raw text -> documents of sentences -> token ids (batched SentencePiece
calls) -> SOP pairs packed to `sequence_length` -> shuffle -> batch ->
n-gram masks -> the Keras triple `(x, y, sample_weight)` that
`keras_albert.AlbertPretrainer` trains on:

```
x = {"token_ids": int32 (B, L), "segment_ids": int32 (B, L),
     "padding_mask": int32 (B, L), "mask_positions": int32 (B, P)}
y = {"mlm": int32 (B, P), "sop": int32 (B,)}
sample_weight = {"mlm": float32 (B, P), "sop": float32 (B,)}
```

Instead of the reference's offline `dupe_factor` copies, every pass over
the data re-packs the pairs (new short lengths, split points and swaps) and
draws new masks, so each epoch sees fresh examples at no storage cost.
Token ids are cached in memory after the first pass (`cache_tokens`), which
makes later passes cost only packing and masking; pass
`cache_tokens=False` for corpora that do not fit in memory.
"""

import itertools

import numpy as np

from keras_albert.pretraining.documents import iter_documents
from keras_albert.pretraining.example_builder import PretrainingExampleBuilder
from keras_albert.pretraining.ngram_masking import NgramMasker
from keras_albert.pretraining.ngram_masking import word_start_table

# Instances travel from Python to tf.data in blocks: one generator call per
# block instead of per example keeps the Python/TF crossing cheap.
_BLOCK_SIZE = 256


def _ragged_to_numpy(tokens):
    """(flat int32 ids, row splits) from any tokenizer output for a batch."""
    if hasattr(tokens, "flat_values") and hasattr(tokens, "row_splits"):
        return (tokens.flat_values.numpy().astype(np.int32, copy=False),
                tokens.row_splits.numpy().astype(np.int64, copy=False))
    if hasattr(tokens, "numpy"):
        tokens = tokens.numpy()
    if isinstance(tokens, np.ndarray) and tokens.dtype != object:
        # Dense (padded) output would lose the true lengths.
        raise ValueError("Tokenizer returned a dense batch; build it without "
                         "`sequence_length` for pretraining.")
    tokens = [np.asarray(t).tolist() if not isinstance(t, list) else t
              for t in tokens]
    lengths = np.fromiter(map(len, tokens), dtype=np.int64,
                          count=len(tokens))
    flat = np.fromiter(itertools.chain.from_iterable(tokens), dtype=np.int32,
                       count=int(lengths.sum()))
    splits = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(lengths, out=splits[1:])
    return flat, splits


def _batch_tokenize_fn(tokenizer):
    """A function `list[str] -> (flat int32 ids, row splits)`.

    For an `AlbertTokenizer` this runs the same normalisation and
    SentencePiece model in plain Python (the `sentencepiece` package): the
    streaming pipeline calls it from inside `tf.data`'s generator thread,
    where tensorflow-text's SentencePiece resource, created in another
    context, cannot be used, and skipping TF op dispatch is faster anyway.
    Other tokenizers are called through `tokenize`.
    """
    proto = getattr(tokenizer, "proto", None)
    if isinstance(proto, bytes) and hasattr(tokenizer, "lowercase"):
        import sentencepiece as spm

        from keras_albert.preprocessing.albert_tokenizer import (
            normalize_text_python as normalize_text,
        )

        processor = spm.SentencePieceProcessor()
        processor.LoadFromSerializedProto(proto)
        lowercase = bool(tokenizer.lowercase)
        strip_accents = bool(getattr(tokenizer, "strip_accents", lowercase))

        def tokenize(sentences):
            text = [normalize_text(s, lowercase, strip_accents)
                    for s in sentences]
            return _ragged_to_numpy(processor.Encode(text))

        return tokenize
    tokenize = getattr(tokenizer, "tokenize_tf", tokenizer.tokenize)
    return lambda sentences: _ragged_to_numpy(tokenize(sentences))


def tokenize_documents(documents, tokenizer, batch_size=4096):
    """Tokenizes documents with few, large tokenizer calls.

    Sentences of many documents are sent to the tokenizer together (one
    SentencePiece call per `batch_size` sentences), then cut back into
    documents.

    Args:
        documents: iterable of documents (lists of sentence strings).
        tokenizer: an `AlbertTokenizer` (or any tokenizer whose `tokenize`
            takes a list of strings and returns ragged ids).
        batch_size: int. Sentences per tokenizer call.

    Yields:
        `(flat_ids, splits)` per document: an int32 array of all its token
        ids and int64 sentence boundaries, so sentence `i` is
        `flat_ids[splits[i]:splits[i + 1]]`. This is compact enough to cache.

    Example:
    ```python
    for flat, splits in tokenize_documents([["Hello world.", "Bye."]], tok):
        sentences = np.split(flat, splits[1:-1])
    ```
    """
    pending, sentences = [], []
    tokenize = _batch_tokenize_fn(tokenizer)

    def flush():
        flat, splits = tokenize(sentences)
        row = 0
        for count in pending:
            lo, hi = splits[row], splits[row + count]
            yield flat[lo:hi], splits[row:row + count + 1] - lo
            row += count

    for document in documents:
        pending.append(len(document))
        sentences.extend(document)
        if len(sentences) >= batch_size:
            yield from flush()
            pending, sentences = [], []
    if pending:
        yield from flush()


def _sentences(flat, splits):
    return [flat[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]


def _is_reiterable(corpus):
    """Paths and containers can be read again each epoch; iterators not."""
    import os

    if isinstance(corpus, (str, os.PathLike, list, tuple)):
        return True
    try:
        return iter(corpus) is not corpus
    except TypeError:
        return False


class _InstanceStream:
    """Generator factory for `tf.data.Dataset.from_generator`.

    Each call is one pass over the corpus ("epoch") with its own generator
    seeded from `(seed, epoch)`, so passes differ from each other but the
    whole sequence is reproducible from `seed`.
    """

    def __init__(self, corpus, tokenizer, builder, seed, cache_tokens,
                 split_sentences, progress, dupe_factor=1,
                 shuffle_documents=True):
        self.corpus = corpus
        self.tokenizer = tokenizer
        self.builder = builder
        self.seed = seed
        self.cache_tokens = cache_tokens or not _is_reiterable(corpus)
        self.split_sentences = split_sentences
        self.progress = progress
        self.dupe_factor = dupe_factor
        self.shuffle_documents = shuffle_documents
        self._cache = None
        self._epoch = 0

    def _tokenized(self, progress):
        documents = iter_documents(self.corpus, self.split_sentences,
                                   progress=progress)
        return tokenize_documents(documents, self.tokenizer)

    def documents(self, rng, progress=False):
        """Tokenized documents for one pass, as lists of sentence arrays."""
        if self._cache is not None:
            order = (rng.permutation(len(self._cache))
                     if self.shuffle_documents else range(len(self._cache)))
            for i in order:
                yield _sentences(*self._cache[i])
            return
        if self.cache_tokens and not _is_reiterable(self.corpus) and (
            self._epoch > 1
        ):
            raise RuntimeError("The corpus iterator was exhausted before its "
                               "first pass completed; pass a list or paths.")
        cache = [] if self.cache_tokens else None
        for flat, splits in self._tokenized(progress):
            if cache is not None:
                cache.append((flat, splits))
            yield _sentences(flat, splits)
        # Only a complete pass is cached: an interrupted one (e.g. a fit with
        # `steps_per_epoch`) is simply read again next time.
        if cache is not None:
            self._cache = cache

    def instances(self, rng, progress=False):
        for _ in range(self.dupe_factor):
            for document in self.documents(rng, progress):
                yield from self.builder.build(document, rng)

    def __call__(self):
        epoch = self._epoch
        self._epoch += 1
        rng = np.random.default_rng([self.seed, epoch])
        length = self.builder.sequence_length
        block = []
        for instance in self.instances(rng, self.progress and epoch == 0):
            block.append(instance)
            if len(block) == _BLOCK_SIZE:
                yield _pad_block(block, length)
                block = []
        if block:
            yield _pad_block(block, length)


def _pad_block(instances, length):
    n = len(instances)
    token_ids = np.zeros((n, length), dtype=np.int32)
    segment_ids = np.zeros((n, length), dtype=np.int32)
    sop = np.zeros((n,), dtype=np.int32)
    for i, inst in enumerate(instances):
        k = len(inst.token_ids)
        token_ids[i, :k] = inst.token_ids
        segment_ids[i, :k] = inst.segment_ids
        sop[i] = inst.sop_label
    return token_ids, segment_ids, sop


def _resolve_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31 - 1))
    return int(seed) % (2**31 - 1)


def mask_and_format(dataset, masker, seed, num_parallel_calls=None):
    """Turns padded unmasked batches into contract triples with fresh masks.

    Args:
        dataset: `tf.data.Dataset` of `(token_ids (B, L), segment_ids (B, L),
            sop_labels (B,))` int32 batches, padded with `masker.pad_token_id`.
        masker: an `NgramMasker`.
        seed: int. Masks are drawn from per-batch seeds of
            `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`:
            reproducible, parallel-safe, and new at every iteration of the
            dataset (every epoch).
        num_parallel_calls: forwarded to `Dataset.map` (default AUTOTUNE).

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` triples.

    Example:
    ```python
    ds = mask_and_format(unmasked_batches, masker, seed=0)
    ```
    """
    import tensorflow as tf

    if num_parallel_calls is None:
        num_parallel_calls = tf.data.AUTOTUNE
    width = masker.max_predictions_per_seq
    pad = masker.pad_token_id
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def numpy_mask(token_ids, batch_seed):
        out = masker.mask_batch(token_ids, int(batch_seed) % (2**63))
        return (out["token_ids"], out["mask_positions"], out["mask_ids"],
                out["mask_weights"])

    def to_triple(batch, batch_seed):
        token_ids, segment_ids, sop = batch
        masked, positions, mask_ids, weights = tf.numpy_function(
            numpy_mask, [token_ids, batch_seed],
            [tf.int32, tf.int32, tf.int32, tf.float32], stateful=False)
        batch_dim = token_ids.shape[0]
        masked.set_shape(token_ids.shape)
        for t in (positions, mask_ids, weights):
            t.set_shape((batch_dim, width))
        x = {
            "token_ids": masked,
            "segment_ids": segment_ids,
            "padding_mask": tf.cast(tf.not_equal(token_ids, pad), tf.int32),
            "mask_positions": positions,
        }
        y = {"mlm": mask_ids, "sop": sop}
        sample_weight = {"mlm": weights,
                         "sop": tf.ones_like(sop, dtype=tf.float32)}
        return x, y, sample_weight

    return tf.data.Dataset.zip(dataset, seeds).map(
        to_triple, num_parallel_calls=num_parallel_calls)


def make_pretraining_dataset(
    corpus_or_documents,
    tokenizer,
    sequence_length=128,
    max_predictions_per_seq=20,
    batch_size=32,
    masked_lm_prob=0.15,
    max_ngram=3,
    short_seq_prob=0.1,
    seed=None,
    repeat=False,
    shuffle_buffer=10_000,
    drop_remainder=True,
    cache_tokens=True,
    split_sentences=True,
    whole_word=True,
    progress=False,
    num_parallel_calls=None,
    prefetch=True,
):
    """Streaming ALBERT pretraining batches built on the fly from raw text.

    Each pass over the dataset re-packs documents into sentence-order pairs
    and draws new n-gram masks, deterministically from `seed`. Pairs come
    from a Python generator (`tf.data.Dataset.from_generator`), which suits
    one host; for multi-host or TPU input, or to pay tokenization once for
    many runs, write TFRecords (`tfrecords.write_tfrecords`) and read them
    with `tfrecords.read_tfrecords` (same batches, still masked per epoch).

    Args:
        corpus_or_documents: text file paths/directories/globs, documents as
            lists of sentences, `(name, sentences)` pairs (e.g.
            `keras_albert.datasets.load_python_docs()`) or raw texts; see
            `documents.iter_documents`.
        tokenizer: an `AlbertTokenizer` (no `sequence_length` set).
        sequence_length: int. Fixed length `L` of every example.
        max_predictions_per_seq: int. Width `P` of the prediction arrays.
        batch_size: int. Examples per batch.
        masked_lm_prob: float. Share of tokens to predict.
        max_ngram: int. Longest masked span in words (`P(n)` ∝ `1/n`).
        short_seq_prob: float. Share of examples with a shorter target
            length.
        seed: optional int. Same seed, same batches, epoch after epoch.
        repeat: bool. Repeat forever (each repetition is a fresh pass).
        shuffle_buffer: int. Example-level shuffle buffer (0 to disable).
            Documents themselves are shuffled from the second pass on (the
            first pass streams them in corpus order while tokenizing).
        drop_remainder: bool. Drop the last partial batch, so every batch has
            the static shape pretraining wants.
        cache_tokens: bool. Keep token ids in memory after the first pass.
            Corpora given as one-shot iterators are always cached.
        split_sentences: bool. Split lines/texts into sentences.
        whole_word: bool. Mask whole words (default) rather than pieces.
        progress: bool. Progress bar while reading the corpus the first time.
        num_parallel_calls: masking parallelism (default AUTOTUNE).
        prefetch: bool. Prefetch batches (AUTOTUNE).

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` triples for
        `AlbertPretrainer.fit`.

    Example:
    ```python
    from keras_albert.datasets import load_python_docs

    ds = make_pretraining_dataset(load_python_docs(), tokenizer,
                                  sequence_length=128, batch_size=32, seed=0)
    pretrainer.fit(ds, epochs=3)  # new pairs and masks each epoch
    ```
    """
    import tensorflow as tf

    seed = _resolve_seed(seed)
    word_start = word_start_table(tokenizer.get_vocabulary())
    builder = PretrainingExampleBuilder.from_tokenizer(
        tokenizer, sequence_length=sequence_length,
        short_seq_prob=short_seq_prob, word_start=word_start)
    masker = NgramMasker.from_tokenizer(
        tokenizer, whole_word=whole_word, masked_lm_prob=masked_lm_prob,
        max_predictions_per_seq=max_predictions_per_seq, max_ngram=max_ngram)
    stream = _InstanceStream(corpus_or_documents, tokenizer, builder, seed,
                             cache_tokens, split_sentences, progress)
    spec = (tf.TensorSpec((None, sequence_length), tf.int32),
            tf.TensorSpec((None, sequence_length), tf.int32),
            tf.TensorSpec((None,), tf.int32))
    ds = tf.data.Dataset.from_generator(stream, output_signature=spec)
    ds = ds.unbatch()
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed,
                        reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = mask_and_format(ds, masker, seed, num_parallel_calls)
    if repeat:
        ds = ds.repeat()
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def iter_pretraining_instances(corpus_or_documents, tokenizer,
                               sequence_length=128, short_seq_prob=0.1,
                               seed=None, dupe_factor=1, split_sentences=True,
                               progress=False):
    """Unmasked `PretrainingInstance`s from raw text, streamed in corpus
    order (e.g. to write TFRecords).

    Args:
        corpus_or_documents: see `make_pretraining_dataset`.
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Final example length.
        short_seq_prob: float. Share of examples with a shorter target.
        seed: optional int.
        dupe_factor: int. Passes over the corpus, each packed differently
            (the reference's option; with dynamic masking at read time 1 is
            usually enough).
        split_sentences: bool. Split lines/texts into sentences.
        progress: bool. Progress bar over the corpus.

    Yields:
        `PretrainingInstance`s.

    Example:
    ```python
    instances = iter_pretraining_instances("corpus/", tokenizer, seed=0)
    write_tfrecords(instances, "records/", num_shards=8)
    ```
    """
    builder = PretrainingExampleBuilder.from_tokenizer(
        tokenizer, sequence_length=sequence_length,
        short_seq_prob=short_seq_prob)
    stream = _InstanceStream(corpus_or_documents, tokenizer, builder,
                             _resolve_seed(seed), cache_tokens=False,
                             split_sentences=split_sentences,
                             progress=progress, dupe_factor=dupe_factor,
                             shuffle_documents=False)
    rng = np.random.default_rng([stream.seed, 0])
    if dupe_factor > 1 and not _is_reiterable(corpus_or_documents):
        stream.cache_tokens = True
    yield from stream.instances(rng, progress)
