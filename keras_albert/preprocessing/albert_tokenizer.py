"""ALBERT's SentencePiece tokenizer, in-graph via tensorflow-text."""

import os

import keras

from keras_albert.preprocessing.text_layer import TextLayer
from keras_albert.preprocessing.text_normalization import normalize_text_tf

SPECIAL_TOKENS = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
PROTO_FILENAME = "spiece.model"


def _read_proto(proto):
    if isinstance(proto, (bytes, bytearray)):
        return bytes(proto)
    path = os.fspath(proto)
    if not os.path.isfile(path):
        raise ValueError(f"SentencePiece model file not found: {path!r}.")
    with open(path, "rb") as f:
        return f.read()


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertTokenizer(TextLayer):
    """Turns text into ALBERT token ids with a SentencePiece model.

    Runs as TensorFlow ops (tensorflow-text's SentencePiece kernel), so it
    works inside `tf.data` pipelines and exported SavedModels on every Keras
    backend. Before SentencePiece it normalises text as ALBERT's released
    models expect: whitespace collapsed, LaTeX quotes to `"`, accents
    stripped and lower-cased (both on by default, as in the English
    releases).

    A batch of strings gives a `tf.RaggedTensor` of ids (a list of lists
    when called eagerly under JAX or PyTorch); a single string gives a 1-D
    tensor.

    Args:
        proto: path to a SentencePiece `.model` file, or its bytes. It must
            contain `<pad>`, `<unk>`, `[CLS]`, `[SEP]` and `[MASK]`.
        lowercase: bool. Lower-case text before tokenizing.
        strip_accents: bool or None. Remove accents; None follows
            `lowercase` (Hugging Face's `keep_accents=False`).

    Example:
    ```python
    keras_albert.train_sentencepiece(texts, "spiece.model",
                                     vocabulary_size=500)
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    tokenizer(["The quick brown fox.", "Café"])
    tokenizer.detokenize(tokenizer(["the quick brown fox."]))
    ```
    """

    def __init__(self, proto=None, lowercase=True, strip_accents=None,
                 **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(dtype="int32", **kwargs)
        self.lowercase = bool(lowercase)
        self.strip_accents = (
            self.lowercase if strip_accents is None else bool(strip_accents)
        )
        self.proto = None
        if proto is not None:
            self.set_proto(proto)

    # -- vocabulary ----------------------------------------------------
    def set_proto(self, proto):
        """Loads a SentencePiece model (path or bytes) and checks specials."""
        import sentencepiece as spm

        proto = _read_proto(proto)
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(proto)
        except (RuntimeError, OSError) as e:
            raise ValueError(
                f"Not a valid SentencePiece model: {e}"
            ) from None
        vocabulary = [
            processor.IdToPiece(i) for i in range(processor.GetPieceSize())
        ]
        index = {piece: i for i, piece in enumerate(vocabulary)}
        missing = [t for t in SPECIAL_TOKENS if t not in index]
        if missing:
            raise ValueError(
                "The SentencePiece model lacks ALBERT's special tokens "
                f"{missing}. Train it with `keras_albert.train_sentencepiece`"
                " (or pass `--control_symbols=[CLS],[SEP],[MASK]` and "
                "`--pad_id=0 --unk_id=1` to SentencePiece)."
            )
        self.proto = proto
        self._processor = processor
        self._vocabulary = vocabulary
        self._index = index
        self.pad_token_id = index["<pad>"]
        self.unk_token_id = index["<unk>"]
        self.cls_token_id = index["[CLS]"]
        self.sep_token_id = index["[SEP]"]
        self.mask_token_id = index["[MASK]"]
        self._tf_tokenizer = None

    def _check_proto(self):
        if self.proto is None:
            raise ValueError(
                "This AlbertTokenizer has no SentencePiece model yet. Pass "
                "`proto=` or call `load_assets(dir)`."
            )

    def _sentencepiece(self):
        if self._tf_tokenizer is None:
            import tensorflow as tf
            import tensorflow_text as tf_text

            # Create the op's resource eagerly, even when first asked for
            # inside a tf.data/tf.function trace, so later eager calls and
            # other traces can use it.
            with tf.init_scope():
                self._tf_tokenizer = tf_text.SentencepieceTokenizer(
                    model=self.proto, out_type=tf.int32
                )
        return self._tf_tokenizer

    def vocabulary_size(self):
        self._check_proto()
        return len(self._vocabulary)

    def get_vocabulary(self):
        self._check_proto()
        return list(self._vocabulary)

    def id_to_token(self, token_id):
        self._check_proto()
        token_id = int(token_id)
        if not 0 <= token_id < len(self._vocabulary):
            raise ValueError(
                f"Token id {token_id} is out of range for a vocabulary of "
                f"{len(self._vocabulary)}."
            )
        return self._vocabulary[token_id]

    def token_to_id(self, token):
        self._check_proto()
        return self._index.get(token, self.unk_token_id)

    @property
    def special_token_ids(self):
        return [self.pad_token_id, self.unk_token_id, self.cls_token_id,
                self.sep_token_id, self.mask_token_id]

    # -- tokenizing -----------------------------------------------------
    def tokenize_tf(self, inputs):
        """TF-only path: string tensor in, int32 (ragged) ids out."""
        import tensorflow as tf

        self._check_proto()
        inputs = tf.convert_to_tensor(inputs, dtype=tf.string)
        text = normalize_text_tf(inputs, self.lowercase, self.strip_accents)
        return self._sentencepiece().tokenize(text)

    def call(self, inputs):
        import tensorflow as tf

        with tf.device("cpu"):
            return self._to_backend(self.tokenize_tf(inputs))

    def tokenize(self, inputs):
        return self(inputs)

    def detokenize(self, ids):
        """Ids (tensor, ragged tensor or lists) back to strings."""
        import tensorflow as tf

        self._check_proto()
        if isinstance(ids, (list, tuple)) and ids and isinstance(
            ids[0], (list, tuple)
        ):
            ids = tf.ragged.constant(ids, dtype=tf.int32)
        elif not isinstance(ids, (tf.Tensor, tf.RaggedTensor)):
            ids = tf.convert_to_tensor(keras.ops.convert_to_numpy(ids),
                                       dtype=tf.int32)
        return self._sentencepiece().detokenize(ids)

    # -- saving ------------------------------------------------------------
    def save_assets(self, dir_path):
        self._check_proto()
        with open(os.path.join(dir_path, PROTO_FILENAME), "wb") as f:
            f.write(self.proto)

    def load_assets(self, dir_path):
        self.set_proto(os.path.join(dir_path, PROTO_FILENAME))

    @classmethod
    def from_file(cls, path, **kwargs):
        """Builds a tokenizer from a `.model` file."""
        return cls(proto=path, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        # The model itself travels as an asset (spiece.model), not in JSON.
        config.update(
            {
                "proto": None,
                "lowercase": self.lowercase,
                "strip_accents": self.strip_accents,
            }
        )
        return config
