"""Words to ALBERT inputs, with one label per word, for token classification.

A word usually becomes several SentencePiece pieces. Following BERT's NER
recipe, the first piece of each word carries the word's label; its other
pieces, `[CLS]`, `[SEP]` and padding are ignored by the loss (label mask 0)
and by prediction, which reads each word's tag off its first piece.

A sentence longer than the model's window is split into overlapping
windows (`[CLS] pieces [SEP]` each) instead of being truncated. Every word
is labelled and predicted in exactly one window: the one where its first
piece has the most context on both sides (BERT's "max context" rule for
SQuAD documents), so no word is dropped or counted twice.

Alignment runs in Python (`TokenAligner`: exact character offsets into the
caller's text), once per sentence, before batching.
"""

import dataclasses

import keras
import numpy as np

from keras_albert.preprocessing.albert_preprocessing_layer import (
    check_sequence_length,
    deserialize_tokenizer,
    padded_width,
    preprocessor_config,
    set_padding,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.token_alignment import AlignedTokens
from keras_albert.preprocessing.token_alignment import aligner_for
from keras_albert.preprocessing.windows import sliding_windows


@dataclasses.dataclass
class EncodedSentence:
    """One sentence as model rows, with the way back to its words.

    Attributes:
        text: the string the character offsets refer to: the sentence as
            given, or its words joined by single spaces.
        aligned: the `AlignedTokens` of `text` (piece ids, their character
            offsets and words, `words` being `(start, end)` spans).
        windows: list of rows, each a dict with `"token_ids"`
            (`[CLS] pieces [SEP]`), `"word_index"` (per position, the word
            whose label this position carries, else -1) and `"label_ids"`
            (per position, that word's label id, else -1; None when the
            sentence came without labels).
        word_positions: per word, `(window, position)` of the first piece
            that predicts it, or None for a word that produced no piece
            (only characters ALBERT's normalisation deletes).
    """

    text: str
    aligned: AlignedTokens
    windows: list
    word_positions: list

    @property
    def word_spans(self):
        return self.aligned.words


def window_ranges(num_pieces, word_starts, capacity, overlap):
    """Piece ranges `[(start, end), ...]` covering `num_pieces` pieces with
    at most `capacity` pieces each.

    Consecutive windows share at least `overlap` pieces; a window starts on
    a word's first piece when one lies in the allowed range, so a word is
    seldom cut at a window's left edge (`sliding_windows` with a stride of
    `capacity - overlap`, at least 1).
    """
    return sliding_windows(num_pieces, capacity, max(capacity - overlap, 1),
                           start_points=word_starts)


def _best_window(piece, ranges):
    """Index of the range where `piece` has the most context on its
    shorter side (the first such range on ties)."""
    best, best_score = None, -1
    for w, (start, end) in enumerate(ranges):
        if start <= piece < end:
            score = min(piece - start, end - 1 - piece)
            if score > best_score:
                best, best_score = w, score
    return best


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertTokenClassificationPreprocessor:
    """Packs sentences of words into ALBERT rows with per-piece labels.

    A sentence is a list of words or a raw string (split on whitespace).
    Labels are integer ids, one per word (`AlbertTokenClassifier` maps tag
    strings to ids). Packed batches are dicts of int32 NumPy arrays
    `{"token_ids", "segment_ids", "padding_mask"}` of shape `(rows, L)`,
    where `L` is the smallest `length_buckets` width that holds the batch's
    longest row (with `length_buckets=None`: that row rounded up to a
    multiple of `pad_to_multiple_of`; at most `sequence_length`), plus,
    with labels,
    `label_ids` (int32, 0 where ignored) and `label_mask` (float32, 1 on
    the first piece of each word a row is responsible for), ready to be
    Keras' `(x, y, sample_weight)`.

    Sentences longer than `sequence_length - 2` pieces become several
    overlapping rows (see the module docstring), so nothing is truncated.

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Maximum row length, `[CLS]`/`[SEP]` included.
        overlap: int or None. Pieces shared by consecutive windows of a
            long sentence (more context for the words near a window edge,
            more rows). None uses `min(128, (sequence_length - 2) // 2)`.
        pad_to_multiple_of: int. With `length_buckets=None`, round each
            batch's length up to a multiple of this (fewer distinct shapes
            to compile).
        length_buckets: `"auto"`, None or a list of increasing widths (at
            most `sequence_length`): a batch is padded to the smallest
            that holds its longest row (see `AlbertPreprocessor`).

    Example:
    ```python
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    preprocessor = AlbertTokenClassificationPreprocessor(
        tokenizer, sequence_length=128)
    x, y, sample_weight = preprocessor(
        [["Ada", "Lovelace", "wrote"], "Babbage built it"],
        tags=[[1, 2, 0], [1, 0, 0]],
    )
    ds = preprocessor.dataset(sentences, tag_ids, batch_size=32,
                              shuffle=True)
    ```
    """

    def __init__(self, tokenizer, sequence_length=512, overlap=None,
                 pad_to_multiple_of=8, length_buckets="auto"):
        sequence_length = check_sequence_length(
            sequence_length, 3, "`[CLS]`, one piece and `[SEP]`"
        )
        if overlap is not None and int(overlap) < 0:
            raise ValueError(
                f"`overlap` must be >= 0 or None. Received: {overlap}."
            )
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.overlap = None if overlap is None else int(overlap)
        set_padding(self, pad_to_multiple_of, length_buckets)

    def padded_width(self, longest, sequence_length=None):
        """The width a batch whose longest row has `longest` tokens is
        padded to (rows of at most `sequence_length`, by default
        `self.sequence_length`)."""
        return padded_width(self, longest, sequence_length)

    @staticmethod
    def sentence_text(sentence, index=0):
        """`(text, words or None)` for a raw string or a list of words.

        Raises ValueError for words that are empty or contain whitespace:
        they could not be told apart after joining.
        """
        if isinstance(sentence, bytes):
            sentence = sentence.decode("utf-8")
        if isinstance(sentence, str):
            return sentence, None
        if isinstance(sentence, np.ndarray):
            sentence = sentence.tolist()
        if not isinstance(sentence, (list, tuple)):
            raise ValueError(
                "A sentence is a string or a list of word strings. Sentence "
                f"{index} is a {type(sentence).__name__}: {sentence!r}."
            )
        words = []
        for w, word in enumerate(sentence):
            if isinstance(word, bytes):
                word = word.decode("utf-8")
            if not isinstance(word, str):
                raise ValueError(
                    f"Word {w} of sentence {index} is not a string: "
                    f"{word!r}."
                )
            if not word or word != "".join(word.split()):
                raise ValueError(
                    f"Word {w} of sentence {index} is {word!r}: words must "
                    "be non-empty and contain no whitespace."
                )
            words.append(word)
        return " ".join(words), words

    def _capacity(self, sequence_length):
        length = self.sequence_length if sequence_length is None else int(
            sequence_length)
        if length < 3:
            raise ValueError(
                f"`sequence_length` must be at least 3. Received: {length}."
            )
        capacity = length - 2
        overlap = (
            min(128, capacity // 2) if self.overlap is None else self.overlap
        )
        if overlap >= capacity:
            raise ValueError(
                f"`overlap={overlap}` leaves no room to advance: windows hold "
                f"{capacity} pieces (sequence_length={length} minus "
                "`[CLS]`/`[SEP]`). Use a smaller overlap."
            )
        return capacity, overlap

    def encode(self, sentence, tag_ids=None, sequence_length=None, index=0):
        """Aligns and windows one sentence.

        Args:
            sentence: a string (words = its whitespace-separated parts) or
                a list of words.
            tag_ids: optional list of non-negative int label ids, one per
                word.
            sequence_length: optional int overriding `self.sequence_length`
                (e.g. capped at a model's positions).
            index: the sentence's index, for error messages.

        Returns:
            An `EncodedSentence`.
        """
        capacity, overlap = self._capacity(sequence_length)
        text, words = self.sentence_text(sentence, index)
        aligned = aligner_for(self.tokenizer)(text)
        num_words = len(aligned.words)
        if tag_ids is not None:
            tag_ids = list(tag_ids)
            if len(tag_ids) != num_words:
                raise ValueError(
                    f"Sentence {index} has {num_words} words but "
                    f"{len(tag_ids)} labels: {text!r}."
                )
            for w, tag in enumerate(tag_ids):
                if isinstance(tag, (bool, np.bool_)) or not isinstance(
                        tag, (int, np.integer)) or tag < 0:
                    raise ValueError(
                        f"Label {w} of sentence {index} is {tag!r}; the "
                        "preprocessor takes non-negative integer label ids "
                        "(map tag strings to ids first)."
                    )
        first = aligned.first_pieces()
        ranges = window_ranges(len(aligned.token_ids), first, capacity,
                               overlap)
        cls_id = self.tokenizer.cls_token_id
        sep_id = self.tokenizer.sep_token_id
        windows = []
        for start, end in ranges:
            length = end - start + 2
            windows.append({
                "token_ids": [cls_id] + aligned.token_ids[start:end]
                + [sep_id],
                "word_index": [-1] * length,
                "label_ids": None if tag_ids is None else [-1] * length,
            })
        word_positions = []
        for w, piece in enumerate(first):
            if piece < 0:
                word_positions.append(None)
                continue
            window = _best_window(piece, ranges)
            position = piece - ranges[window][0] + 1  # after [CLS]
            windows[window]["word_index"][position] = w
            if tag_ids is not None:
                windows[window]["label_ids"][position] = int(tag_ids[w])
            word_positions.append((window, position))
        return EncodedSentence(text, aligned, windows, word_positions)

    def encode_batch(self, sentences, tags=None, sequence_length=None):
        """`encode` for a list of sentences (and their label-id lists)."""
        if isinstance(sentences, (str, bytes)):
            raise ValueError(
                "Expected a list of sentences; received a single string. "
                "Wrap it in a list."
            )
        sentences = list(sentences)
        if tags is not None:
            tags = list(tags)
            if len(tags) != len(sentences):
                raise ValueError(
                    f"Got {len(sentences)} sentences but {len(tags)} label "
                    "lists."
                )
        return [
            self.encode(
                s, None if tags is None else tags[i], sequence_length, i
            )
            for i, s in enumerate(sentences)
        ]

    # -- packing -----------------------------------------------------------
    def pack(self, windows, sequence_length=None):
        """Pads rows (window dicts from `encode`) into one batch.

        Returns:
            `x`, the model-input dict, when any window lacks labels, else
            `(x, label_ids, label_mask)`.
        """
        if not windows:
            raise ValueError("Nothing to pack: no rows were given.")
        limit = self.sequence_length if sequence_length is None else int(
            sequence_length)
        longest = max(len(w["token_ids"]) for w in windows)
        if longest > limit:
            raise ValueError(
                f"A row has {longest} tokens, more than sequence_length="
                f"{limit}; encode with the same sequence_length."
            )
        length = self.padded_width(longest, limit)
        pad_id = self.tokenizer.pad_token_id
        token_ids = np.full((len(windows), length), pad_id, "int32")
        padding_mask = np.zeros((len(windows), length), "int32")
        labelled = all(w["label_ids"] is not None for w in windows)
        label_ids = np.zeros((len(windows), length), "int32")
        label_mask = np.zeros((len(windows), length), "float32")
        for row, window in enumerate(windows):
            n = len(window["token_ids"])
            token_ids[row, :n] = window["token_ids"]
            padding_mask[row, :n] = 1
            if labelled:
                ids = np.asarray(window["label_ids"], "int32")
                label_mask[row, :n] = ids >= 0
                label_ids[row, :n] = np.maximum(ids, 0)
        x = {
            "token_ids": token_ids,
            "segment_ids": np.zeros_like(token_ids),
            "padding_mask": padding_mask,
        }
        return (x, label_ids, label_mask) if labelled else x

    def __call__(self, sentences, tags=None):
        """Encodes and packs `sentences` (all their windows) as one batch:
        `x`, or `(x, label_ids, label_mask)` when `tags` (label-id lists)
        are given."""
        encoded = self.encode_batch(sentences, tags)
        windows = [w for e in encoded for w in e.windows]
        return self.pack(windows)

    def dataset(self, sentences, tags, batch_size=32, shuffle=False,
                seed=None, sequence_length=None, bucket_by_length=False,
                tokens_per_batch=None):
        """A `tf.data.Dataset` of `(x, label_ids, label_mask)` batches.

        Rows are padded per batch (see the class docstring), so batches
        differ in length. With `shuffle`, rows are reshuffled every epoch.

        Args:
            sentences: list of sentences (word lists or strings).
            tags: list of label-id lists, one id per word.
            batch_size: int. Rows (windows) per batch.
            shuffle: bool. Shuffle rows each epoch.
            seed: optional int for the shuffling.
            sequence_length: optional override of `self.sequence_length`.
            bucket_by_length: bool. Batch rows of similar lengths together
                (less padding): with `shuffle`, batches of similar lengths
                in a new random order every epoch; without, longest rows
                first.
            tokens_per_batch: optional int, without `shuffle`: as many rows
                per batch as keep `rows * width` within it (`batch_size` is
                then ignored).
        """
        import tensorflow as tf

        batch_size = int(batch_size or 32)
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1. Got {batch_size}.")
        if tags is None:
            raise ValueError("`dataset` needs labels (`tags`).")
        encoded = self.encode_batch(sentences, tags, sequence_length)
        windows = [w for e in encoded for w in e.windows]
        if not windows:
            raise ValueError("The sentences hold no words to train on.")
        batches = LengthBatches(
            [len(w["token_ids"]) for w in windows], batch_size,
            shuffle=shuffle, by_length=bucket_by_length,
            tokens_per_batch=tokens_per_batch,
            padded_width=lambda n: self.padded_width(n, sequence_length),
            seed=seed)

        def make_batch(indices):
            return self.pack([windows[i] for i in indices], sequence_length)

        matrix = tf.TensorSpec((None, None), tf.int32)
        signature = (
            {"token_ids": matrix, "segment_ids": matrix,
             "padding_mask": matrix},
            matrix,
            tf.TensorSpec((None, None), tf.float32),
        )
        return batches.dataset(make_batch, signature)

    # -- config ------------------------------------------------------------
    def get_config(self):
        # Not a Keras layer, so no `name`/`dtype`: just the constructor
        # arguments, laid out like the preprocessing layers' configs.
        return preprocessor_config(self, ("overlap",))

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_tokenizer(config))
