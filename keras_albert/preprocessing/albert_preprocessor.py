"""Packs texts and text pairs into ALBERT's model inputs."""

import keras

from keras_albert.preprocessing.albert_preprocessing_layer import (
    AlbertPreprocessingLayer,
    check_sequence_length,
    check_truncate,
    set_padding,
)
from keras_albert.utils.text_inputs import is_text_pair

try:
    import tensorflow as tf
    import tensorflow_text as tf_text
except ImportError:
    tf = None
    tf_text = None

TRUNCATION_STRATEGIES = ("round_robin", "waterfall")


def _as_tf_text(value):
    if isinstance(value, (tf.Tensor, tf.RaggedTensor)):
        return value
    return tf.convert_to_tensor(value, dtype=tf.string)


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertPreprocessor(AlbertPreprocessingLayer):
    """Tokenizes and packs `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`.

    Returns `{"token_ids", "segment_ids", "padding_mask"}`, int32 tensors of
    shape `(batch, L)`. Segment ids are 0 for `[CLS] a [SEP]` and 1 for
    `b [SEP]`; padding uses `<pad>` (id 0) with `padding_mask` 0.

    `L` is the smallest of a few widths (`length_buckets`) that holds the
    longest packed sequence in the batch, capped at `sequence_length`: a
    batch of short texts is not padded to the maximum length, which saves
    most of the encoder's compute on typical inputs, and a compiled model
    sees a handful of shapes only. Longer inputs are truncated so
    that the total, specials included, fits `sequence_length`:
    `"round_robin"` takes one token at a time from each segment in turn,
    `"waterfall"` lets segment a keep as much as it can first.

    The layer takes a batch of strings, a `(text_a, text_b)` tuple of
    batches, or unbatched strings (rank-1 outputs), plus the Keras
    `(x, y, sample_weight)` packing, so it maps directly over a
    `tf.data.Dataset` of labelled text. It runs as TF ops inside `tf.data`
    on every backend; called eagerly it returns the backend's tensors.

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Maximum packed length, specials included.
        truncate: str. `"round_robin"` or `"waterfall"`.
        pad_to_multiple_of: int. With `length_buckets=None`, round the
            batch length up to a multiple of this (hardware friendlier
            shapes, fewer distinct shapes to compile); 1 pads to the exact
            longest sequence.
        length_buckets: `"auto"`, None or a list of increasing widths (at
            most `sequence_length`). A batch is padded to the smallest
            width holding its longest sequence (`sequence_length` when
            none does); `"auto"` is `padding.bucket_lengths(
            sequence_length)` (16, 24, 32, 48, 64, 96, ...). None pads to
            the longest sequence rounded up to `pad_to_multiple_of`.

    Example:
    ```python
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    preprocessor = keras_albert.AlbertPreprocessor(
        tokenizer, sequence_length=128
    )
    preprocessor(["a short text", "another one"])
    preprocessor((["the premise"], ["the hypothesis"]))

    ds = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(8)
    ds = ds.map(preprocessor)  # ({"token_ids", ...}, labels)
    ```
    """

    config_arguments = ("truncate",)

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="round_robin",
        pad_to_multiple_of=8,
        length_buckets="auto",
        **kwargs,
    ):
        super().__init__(tokenizer, **kwargs)
        self.truncate = check_truncate(truncate, TRUNCATION_STRATEGIES)
        self.sequence_length = check_sequence_length(
            sequence_length, 3, "`[CLS] [SEP] [SEP]`"
        )
        set_padding(self, pad_to_multiple_of, length_buckets)

    def __call__(self, *args, **kwargs):
        # keras_hub's base unpacks any lone 2/3-tuple as `(x, y[, sw])`,
        # which would read a `(text_a, text_b)` pair as text plus labels.
        # Unpack only tuples that are not a pair of string batches.
        if (
            len(args) == 1
            and type(args[0]) is tuple
            and len(args[0]) in (2, 3)
            and "y" not in kwargs
            and "sample_weight" not in kwargs
        ):
            if len(args[0]) == 2 and is_text_pair(tuple(args[0])):
                # Keras rejects a tuple argument mixing TF tensors with
                # NumPy arrays or lists, so make both segments TF tensors.
                args = (tuple(_as_tf_text(s) for s in args[0]),)
            else:
                args = args[0]
        return keras.layers.Layer.__call__(self, *args, **kwargs)

    def _segments(self, x):
        if isinstance(x, dict):
            raise ValueError(
                "AlbertPreprocessor takes strings or a `(text_a, text_b)` "
                f"tuple, not a dict. Received keys: {sorted(x)}."
            )
        # A tuple enumerates segments; a list is one batch of strings
        # (keras_hub's convention for raw inputs).
        segments = list(x) if isinstance(x, tuple) else [x]
        if not 1 <= len(segments) <= 2:
            raise ValueError(
                "AlbertPreprocessor packs one or two segments. Received a "
                f"tuple of {len(segments)}."
            )
        segments = [tf.convert_to_tensor(s) for s in segments]
        for s in segments:
            if s.dtype != tf.string:
                raise ValueError(
                    "AlbertPreprocessor takes strings. Received a tensor of "
                    f"dtype {s.dtype.name}."
                )
        ranks = {s.shape.rank for s in segments}
        if len(ranks) > 1:
            raise ValueError(
                "text_a and text_b must both be batches or both single "
                f"strings. Received ranks {sorted(ranks)}."
            )
        rank = ranks.pop()
        if rank is not None and rank > 1:
            raise ValueError(
                "AlbertPreprocessor takes a 1-D batch of strings or a single "
                f"string. Received a tensor of rank {rank}."
            )
        if len(segments) == 2 and rank == 1:
            segments = self._check_pair_sizes(*segments)
        return segments, rank == 0

    @staticmethod
    def _check_pair_sizes(text_a, text_b):
        """Unequal batches of first and second texts would reach
        tensorflow-text's native code with inconsistent shapes (a crash,
        or ids read from the wrong rows): a ValueError when the sizes are
        known, an InvalidArgument error from the graph when they are not
        (tf.data, exported signatures)."""
        a, b = text_a.shape[0], text_b.shape[0]
        message = (
            "A text pair needs as many first texts (text_a) as second texts "
            "(text_b)"
        )
        if a is not None and b is not None:
            if a != b:
                raise ValueError(f"{message}; received {a} and {b}.")
            return [text_a, text_b]
        with tf.control_dependencies([tf.debugging.assert_equal(
                tf.shape(text_a)[0], tf.shape(text_b)[0],
                message=message)]):
            return [tf.identity(text_a), tf.identity(text_b)]

    def pack(self, x):
        """Packs strings into the model-input dict (TF tensors only)."""
        segments, unbatched = self._segments(x)
        if unbatched:
            segments = [tf.expand_dims(s, 0) for s in segments]
        token_ids, segment_ids = self._combine(segments)
        outputs = self._pad_rows(token_ids, segment_ids)
        if unbatched:
            outputs = {k: v[0] for k, v in outputs.items()}
        return outputs

    def _packed_ragged(self, x):
        segments, unbatched = self._segments(x)
        if unbatched:
            raise ValueError(
                "Packing rows for batching takes a batch of strings, not a "
                "single string.")
        token_ids, segment_ids = self._combine(segments)
        return token_ids, segment_ids, 1

    def _combine(self, segments):
        """Ragged `(token_ids, segment_ids)` of `[CLS] a [SEP] (b [SEP])`
        for batches of strings, trimmed to `sequence_length`."""
        ids = [self._tokenize(s) for s in segments]

        # One [CLS] plus one [SEP] per segment are not subject to trimming.
        budget = self.sequence_length - 1 - len(ids)
        if self.truncate == "round_robin":
            trimmer = tf_text.RoundRobinTrimmer(max_seq_length=budget)
        else:
            trimmer = tf_text.WaterfallTrimmer(max_seq_length=budget)
        ids = trimmer.trim(ids)
        return tf_text.combine_segments(
            ids,
            start_of_sequence_id=self.tokenizer.cls_token_id,
            end_of_segment_id=self.tokenizer.sep_token_id,
        )
