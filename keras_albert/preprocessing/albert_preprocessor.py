"""Packs texts and text pairs into ALBERT's model inputs."""

import keras

from keras_albert.preprocessing.text_layer import TextLayer

TRUNCATION_STRATEGIES = ("round_robin", "waterfall")


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertPreprocessor(TextLayer):
    """Tokenizes and packs `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`.

    Outputs `{"token_ids", "segment_ids", "padding_mask"}`, int32,
    `(batch, L)`. `L` is the longest packed sequence of the batch rounded up
    to a multiple of `pad_to_multiple_of` and capped at `sequence_length`:
    short texts are not padded to the maximum, which saves most of the
    compute on real-world inputs. Longer inputs are truncated to fit
    `sequence_length` (`"round_robin"` takes one token at a time from each
    segment; `"waterfall"` fills segment a first).

    Accepts a batch of strings, a `(text_a, text_b)` tuple of batches, or a
    single string, and Keras' `(x, y, sample_weight)` packing, so it can be
    mapped over a `tf.data.Dataset` of labelled text.

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Maximum packed length, specials included.
        truncate: str. `"round_robin"` or `"waterfall"`.
        pad_to_multiple_of: int. Round the batch length up to this.

    Example:
    ```python
    preprocessor = keras_albert.AlbertPreprocessor(tokenizer,
                                                   sequence_length=128)
    preprocessor(["a short text", "another one"])
    preprocessor((["premise"], ["hypothesis"]))
    ds = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(8)
    ds = ds.map(preprocessor)
    ```
    """

    def __init__(self, tokenizer, sequence_length=512, truncate="round_robin",
                 pad_to_multiple_of=8, **kwargs):
        super().__init__(**kwargs)
        if truncate not in TRUNCATION_STRATEGIES:
            raise ValueError(
                f"`truncate` must be one of {TRUNCATION_STRATEGIES}. "
                f"Received: {truncate!r}."
            )
        if int(sequence_length) < 3:
            raise ValueError(
                "`sequence_length` must be at least 3 ([CLS] x [SEP]). "
                f"Received: {sequence_length}."
            )
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        self.truncate = truncate
        self.pad_to_multiple_of = max(1, int(pad_to_multiple_of))

    def _segments(self, x):
        import tensorflow as tf

        if isinstance(x, dict):
            raise ValueError(
                "AlbertPreprocessor takes strings or (text_a, text_b) "
                "tuples, not a dict. Received keys: " + str(sorted(x))
            )
        if isinstance(x, (tuple, list)) and len(x) == 2 and not all(
            isinstance(v, (str, bytes)) for v in x
        ):
            segments = list(x)
        else:
            segments = [x]
        segments = [tf.convert_to_tensor(s, dtype=tf.string) for s in segments]
        if segments[0].shape.rank is not None and any(
            s.shape.rank != segments[0].shape.rank for s in segments
        ):
            raise ValueError(
                "text_a and text_b must both be batches or both be single "
                "strings."
            )
        return segments

    def pack(self, x):
        """TF-only packing of strings into the model-input dict."""
        import tensorflow as tf
        import tensorflow_text as tf_text

        segments = self._segments(x)
        unbatched = segments[0].shape.rank == 0
        if unbatched:
            segments = [tf.expand_dims(s, 0) for s in segments]
        ids = [self.tokenizer.tokenize_tf(s) for s in segments]
        budget = self.sequence_length - 1 - len(ids)
        trimmer_cls = (
            tf_text.RoundRobinTrimmer if self.truncate == "round_robin"
            else tf_text.WaterfallTrimmer
        )
        ids = trimmer_cls(max_seq_length=budget).trim(ids)
        token_ids, segment_ids = tf_text.combine_segments(
            ids,
            start_of_sequence_id=self.tokenizer.cls_token_id,
            end_of_segment_id=self.tokenizer.sep_token_id,
        )
        longest = tf.reduce_max(
            tf.concat([token_ids.row_lengths(), [1]], axis=0)
        )
        multiple = self.pad_to_multiple_of
        length = tf.minimum(
            (longest + multiple - 1) // multiple * multiple,
            self.sequence_length,
        )
        shape = tf.stack([token_ids.nrows(), length])
        outputs = {
            "token_ids": token_ids.to_tensor(
                default_value=self.tokenizer.pad_token_id, shape=shape
            ),
            "segment_ids": tf.cast(
                segment_ids.to_tensor(default_value=0, shape=shape), tf.int32
            ),
            "padding_mask": tf.ones_like(token_ids, tf.int32).to_tensor(
                default_value=0, shape=shape
            ),
        }
        outputs = {k: tf.cast(v, tf.int32) for k, v in outputs.items()}
        if unbatched:
            outputs = {k: v[0] for k, v in outputs.items()}
        return outputs

    def call(self, x, y=None, sample_weight=None):
        import tensorflow as tf

        with tf.device("cpu"):
            x = self.pack(x)
        return self._to_backend(
            keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tokenizer": keras.saving.serialize_keras_object(
                    self.tokenizer
                ),
                "sequence_length": self.sequence_length,
                "truncate": self.truncate,
                "pad_to_multiple_of": self.pad_to_multiple_of,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("tokenizer"), dict):
            config["tokenizer"] = keras.saving.deserialize_keras_object(
                config["tokenizer"]
            )
        return cls(**config)
