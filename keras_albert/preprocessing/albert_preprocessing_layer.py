"""What ALBERT's preprocessors share: tokenizer, lengths, checks, config.

`AlbertPreprocessingLayer` is the base of the Keras preprocessing layers
(`AlbertPreprocessor`, `AlbertMultipleChoicePreprocessor`,
`AlbertQuestionAnsweringPreprocessor`). `AlbertTokenClassificationPreprocessor`
aligns words in Python and is a plain class, not a layer; it uses this
module's functions for the same argument checks and config layout.
"""

import keras

from keras_albert.utils import compat

from keras_albert.preprocessing.packed_rows import PackedRows
from keras_albert.preprocessing.padding import check_length_buckets
from keras_albert.preprocessing.padding import padded_length

try:
    import tensorflow as tf
except ImportError:
    tf = None

PreprocessingLayer = compat.preprocessing_layer_class()
preprocessing_function = compat.preprocessing_function()


def check_sequence_length(sequence_length, minimum, room):
    """`sequence_length` as an int, or a ValueError below `minimum`.

    Args:
        sequence_length: the value received (int-like or None).
        minimum: int. The smallest length the preprocessor can pack.
        room: str. What `minimum` makes room for, named in the message
            (e.g. "`[CLS] [SEP] [SEP]`").
    """
    if sequence_length is None or int(sequence_length) < minimum:
        raise ValueError(
            f"`sequence_length` must be at least {minimum} (room for "
            f"{room}). Received: {sequence_length}."
        )
    return int(sequence_length)


def check_pad_to_multiple_of(pad_to_multiple_of):
    """`pad_to_multiple_of` as a positive int; None means 1 (no rounding)."""
    if pad_to_multiple_of is None:
        pad_to_multiple_of = 1
    if int(pad_to_multiple_of) < 1:
        raise ValueError(
            "`pad_to_multiple_of` must be a positive integer. "
            f"Received: {pad_to_multiple_of}."
        )
    return int(pad_to_multiple_of)


def set_padding(preprocessor, pad_to_multiple_of, length_buckets,
                check_multiple=None):
    """Checks and sets `pad_to_multiple_of` and `length_buckets` on a
    preprocessor whose `sequence_length` is set (see `padding`).

    Args:
        preprocessor: the preprocessor being built.
        pad_to_multiple_of: int or None (1).
        length_buckets: `"auto"`, None or increasing widths, at most
            `sequence_length`.
        check_multiple: optional callable checking `pad_to_multiple_of`
            in the preprocessor's own words; `check_pad_to_multiple_of`
            by default.
    """
    check_multiple = check_multiple or check_pad_to_multiple_of
    preprocessor.pad_to_multiple_of = check_multiple(pad_to_multiple_of)
    preprocessor.length_buckets = check_length_buckets(
        length_buckets, preprocessor.sequence_length)


def padded_width(preprocessor, longest, sequence_length=None):
    """The width `preprocessor` pads a batch whose longest row has
    `longest` tokens to (an int or a TF scalar), by its
    `pad_to_multiple_of`, `length_buckets` and `sequence_length` (or the
    `sequence_length` given)."""
    limit = preprocessor.sequence_length if sequence_length is None else (
        int(sequence_length))
    return padded_length(longest, preprocessor.pad_to_multiple_of, limit,
                         preprocessor.length_buckets)


def check_truncate(truncate, strategies):
    """`truncate`, or a ValueError when it is not one of `strategies`."""
    if truncate not in strategies:
        raise ValueError(
            f"`truncate` must be one of {strategies}. "
            f"Received: truncate={truncate!r}."
        )
    return truncate


def preprocessor_config(preprocessor, arguments=()):
    """The constructor arguments of `preprocessor`, as a config dict.

    The keys are, in this order, `tokenizer` (serialized),
    `sequence_length`, the names in `arguments` (each read from the
    attribute of that name), `pad_to_multiple_of` and `length_buckets`
    (a list, JSON's own type): the layout saved presets have, which
    `from_config` reads back.
    """
    config = {
        "tokenizer": keras.saving.serialize_keras_object(
            preprocessor.tokenizer
        ),
        "sequence_length": preprocessor.sequence_length,
    }
    config.update({name: getattr(preprocessor, name) for name in arguments})
    config["pad_to_multiple_of"] = preprocessor.pad_to_multiple_of
    buckets = preprocessor.length_buckets
    config["length_buckets"] = (
        list(buckets) if isinstance(buckets, tuple) else buckets)
    return config


def deserialize_tokenizer(config):
    """A copy of `config` whose serialized tokenizer (a dict) is rebuilt;
    a tokenizer object passes through."""
    config = dict(config)
    if isinstance(config.get("tokenizer"), dict):
        config["tokenizer"] = keras.saving.deserialize_keras_object(
            config["tokenizer"]
        )
    return config


class AlbertPreprocessingLayer(PreprocessingLayer):
    """Base of the preprocessing layers that pack text for ALBERT.

    Holds the `tokenizer`. Subclasses call `super().__init__(tokenizer,
    **kwargs)` first, then check their own arguments, each with its own
    messages (the common ones from this module's `check_*` functions), and
    set at least `sequence_length` (the longest packed sequence, specials
    included), then `pad_to_multiple_of` and `length_buckets` (the widths
    batches are padded to; `set_padding`).

    `call(x, y=None, sample_weight=None)` packs `x` with the subclass's
    `pack(x)` (TF ops turning strings into the token dict) and keeps the
    Keras `(x, y, sample_weight)` packing, so a layer maps directly over a
    `tf.data.Dataset` of labelled examples; a subclass that works another
    way overrides `call` instead.

    A subclass whose rows come from `_packed_ragged(x)` (unpadded ragged
    token and segment ids) also packs whole datasets once, unpadded
    (`packed_rows`), for batching by length (`pad_packed` pads a batch of
    them, exactly as `call` would).

    `get_config` saves `tokenizer`, `sequence_length`, the attributes named
    in `config_arguments`, `pad_to_multiple_of` and `length_buckets`, in
    that order; the tokenizer is serialized with it and rebuilt by
    `from_config`.

    Args:
        tokenizer: an `AlbertTokenizer`.
        **kwargs: Keras layer arguments (`name`, `dtype`, ...).
    """

    # Constructor arguments besides `tokenizer`, `sequence_length`,
    # `pad_to_multiple_of` and `length_buckets` that `get_config` saves; each is read from the
    # attribute of the same name.
    config_arguments = ()

    def __init__(self, tokenizer, **kwargs):
        # The Keras layer is set up before any argument is checked, so a
        # bad layer argument (e.g. an unknown keyword) is reported first.
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        # No weights: the tracked tokenizer would otherwise make Keras warn
        # about unbuilt state on the first call.
        self.built = True

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        x = self.pack(x)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    # -- TF packing helpers ------------------------------------------------
    def _tokenize(self, text):
        """Piece ids of a batch of strings, a ragged int32 TF tensor."""
        ids = self.tokenizer.tokenize_tf(text)
        if isinstance(ids, tf.Tensor):
            # The tokenizer has its own `sequence_length`: padding is only
            # ever `<pad>`, which text cannot produce.
            ids = tf.RaggedTensor.from_tensor(
                ids, padding=self.tokenizer.pad_token_id
            )
        return tf.cast(ids, tf.int32)

    def _pad_rows(self, token_ids, segment_ids):
        """Pads packed ragged rows into the int32 token dict.

        Returns `{"token_ids", "segment_ids", "padding_mask"}` of shape
        `(rows, L)`, `L` being the width the longest row is padded to
        (`padded_width`: a length bucket, or the longest row rounded up to
        `pad_to_multiple_of`, capped at `sequence_length`); padding is
        `<pad>` with `padding_mask` 0.
        """
        lengths = token_ids.row_lengths()
        # The appended 0 keeps an empty batch valid (length 0).
        longest = tf.reduce_max(tf.concat([lengths, [0]], axis=0))
        length = self.padded_width(longest)
        shape = tf.stack([token_ids.nrows(), length])
        outputs = {
            "token_ids": token_ids.to_tensor(
                default_value=self.tokenizer.pad_token_id, shape=shape
            ),
            "segment_ids": segment_ids.to_tensor(default_value=0, shape=shape),
            "padding_mask": tf.sequence_mask(lengths, length),
        }
        return {k: tf.cast(v, tf.int32) for k, v in outputs.items()}

    def padded_width(self, longest):
        """The width a batch whose longest row has `longest` tokens is
        padded to (an int, or a TF scalar for a tensor)."""
        return padded_width(self, longest)

    # -- packing whole datasets once -----------------------------------------
    # Examples packed per eager call: bounds the memory of the ragged
    # intermediates on large training sets.
    _packing_chunk = 4096

    def _packed_ragged(self, x):
        """`(token_ids, segment_ids, rows_per_example)` of a batch `x`:
        ragged int TF tensors of the packed, unpadded rows. Subclasses
        that support `packed_rows` implement it."""
        raise NotImplementedError(
            f"{type(self).__name__} does not pack unpadded rows.")

    @classmethod
    def packs_rows(cls, preprocessor):
        """Whether `preprocessor` supports `packed_rows`."""
        return isinstance(preprocessor, AlbertPreprocessingLayer) and (
            type(preprocessor)._packed_ragged
            is not AlbertPreprocessingLayer._packed_ragged)

    def packed_rows(self, x, count):
        """Packs `count` examples of `x` (what `call` takes, batched: a
        list or array, a tuple of them, or a dict of them) without
        padding, eagerly, in chunks.

        Returns:
            A `PackedRows`; `pad_packed(rows, indices)` pads any batch of
            it as `call` pads that batch.
        """
        parts = []
        for start in range(0, count, self._packing_chunk):
            chunk = keras.tree.map_structure(
                lambda v: v[start:start + self._packing_chunk], x)
            token_ids, segment_ids, group = self._packed_ragged(chunk)
            parts.append(PackedRows(
                token_ids.flat_values.numpy(),
                segment_ids.flat_values.numpy(),
                token_ids.row_splits.numpy(),
                rows_per_example=group,
            ))
        return PackedRows.concatenate(parts)

    def pad_packed(self, rows, indices):
        """The examples `indices` of `rows` (a `PackedRows`) as a padded
        batch of NumPy int32 arrays, `padded_width` wide."""
        longest = int(rows.lengths[indices].max(initial=0))
        return rows.pad(indices, self.padded_width(longest),
                        self.tokenizer.pad_token_id)

    # -- config ------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(preprocessor_config(self, self.config_arguments))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_tokenizer(config))
