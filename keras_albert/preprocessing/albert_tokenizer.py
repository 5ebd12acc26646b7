"""ALBERT's SentencePiece tokenizer, in-graph via tensorflow-text."""

import os
import unicodedata

import keras

from keras_albert.preprocessing.sentencepiece_resource import (
    SentencepieceModelResource,
)
from keras_albert.utils import compat

try:
    import tensorflow as tf
except ImportError:
    tf = None

# KerasHub's base class and helpers; `compat` checks the private hooks
# this module overrides exist in the installed keras-hub.
SentencePieceTokenizer = compat.sentence_piece_tokenizer_class()
no_convert_scope = compat.no_convert_scope()
preprocessing_function = compat.preprocessing_function()

SPECIAL_TOKENS = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
PROTO_FILENAME = "spiece.model"

# Python's `str.split()` (what ALBERT's `preprocess_text` uses) splits on
# every character for which `str.isspace()` holds. RE2's `\s` only knows
# ASCII space/\t\n\f\r, so the missing ones are listed explicitly.
_WHITESPACE_RUN = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"


def normalize_text_graph(text, lowercase=True, strip_accents=True):
    """ALBERT's text normalisation as TF ops (works inside `tf.data`).

    Mirrors `preprocess_text` of Google's ALBERT and of Hugging Face's
    `AlbertTokenizer` (`remove_space=True`): collapse and trim whitespace,
    turn LaTeX quotes (two backticks or two apostrophes) into `"`,
    optionally NFKD + drop combining marks, optionally lower-case.

    Args:
        text: string tensor of any shape.
        lowercase: bool. Lower-case (Unicode aware).
        strip_accents: bool. Decompose and drop non-spacing marks.

    Returns:
        A string tensor of the same shape.
    """
    text = tf.strings.regex_replace(text, _WHITESPACE_RUN, " ")
    text = tf.strings.regex_replace(text, r"^ | $", "")
    text = tf.strings.regex_replace(text, "``", '"')
    text = tf.strings.regex_replace(text, "''", '"')
    if strip_accents:
        # Imported lazily: tensorflow-text loads custom op libraries.
        import tensorflow_text as tf_text

        text = tf_text.normalize_utf8(text, "NFKD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
    if lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    return text


def normalize_text_python(text, lowercase=True, strip_accents=True):
    """The pure-Python twin of `normalize_text_graph` (one `str`)."""
    text = " ".join(text.split())
    text = text.replace("``", '"').replace("''", '"')
    if strip_accents:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    if lowercase:
        text = text.lower()
    return text


def _proto_bytes(proto):
    """Reads a `proto` argument (bytes, path or base64 string) to bytes."""
    if isinstance(proto, (bytes, bytearray)):
        return bytes(proto)
    if isinstance(proto, os.PathLike):
        proto = os.fspath(proto)
    if not isinstance(proto, str):
        raise ValueError(
            "`proto` must be a path to a SentencePiece `.model` file or its "
            f"serialized bytes. Received: {type(proto).__name__}."
        )
    # keras_hub's base class also accepts a long base64 string; leave that
    # to it and only read what is plainly a file path.
    if os.path.isfile(proto):
        with open(proto, "rb") as f:
            return f.read()
    if len(proto) <= 2048:
        raise ValueError(f"SentencePiece model file not found: {proto!r}.")
    return proto


def _check_proto(proto_bytes):
    """Parses the model and names the ALBERT special tokens it lacks."""
    import sentencepiece as spm

    try:
        processor = spm.SentencePieceProcessor(model_proto=proto_bytes)
    except (RuntimeError, OSError, TypeError) as e:
        raise ValueError(f"Not a valid SentencePiece model: {e}") from None
    pieces = {
        processor.IdToPiece(i) for i in range(processor.GetPieceSize())
    }
    missing = [t for t in SPECIAL_TOKENS if t not in pieces]
    if missing:
        raise ValueError(
            f"The SentencePiece model lacks ALBERT's special tokens {missing}"
            f" (it needs all of {list(SPECIAL_TOKENS)}). Train one with "
            "`keras_albert.train_sentencepiece`, or pass "
            "`--pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 "
            "--control_symbols=[CLS],[SEP],[MASK]` to SentencePiece."
        )


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertTokenizer(SentencePieceTokenizer):
    """Turns text into ALBERT token ids with a SentencePiece model.

    A `keras_hub.tokenizers.SentencePieceTokenizer` that first normalises
    text the way ALBERT's released models expect (whitespace collapsed,
    LaTeX quotes to `"`, accents stripped and lower-cased, exactly Hugging
    Face's `AlbertTokenizer(do_lower_case=True, keep_accents=False)`), with
    TF ops so it runs inside `tf.data` and exported graphs on every Keras
    backend. It also checks the model has ALBERT's special tokens.

    A batch of strings gives a `tf.RaggedTensor` of ids (nested lists when
    called eagerly under JAX or PyTorch); a single string gives a 1-D
    tensor. With `sequence_length` the output is dense, padded with `<pad>`.

    Args:
        proto: path to a SentencePiece `.model` file, or its bytes. Must
            contain `<pad>`, `<unk>`, `[CLS]`, `[SEP]` and `[MASK]`. May be
            `None` when the model is loaded later with `load_assets()`.
        lowercase: bool. Lower-case text before tokenizing (`True` for the
            released English ALBERT models).
        strip_accents: bool or `None`. Remove accents. `None` follows
            `lowercase`, like Hugging Face's `keep_accents=False`.
        sequence_length: int or `None`. Pad/truncate outputs to this length.
        dtype: output dtype, an integer type or `"string"` for pieces.

    Example:
    ```python
    keras_albert.train_sentencepiece(texts, "spiece.model",
                                     vocabulary_size=500)
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    tokenizer(["The quick brown fox.", "Café"])
    tokenizer.detokenize(tokenizer(["the quick brown fox."]))

    ds = tf.data.Dataset.from_tensor_slices(texts).batch(32)
    ds = ds.map(tokenizer)
    ```
    """

    def __init__(
        self,
        proto=None,
        lowercase=True,
        strip_accents=None,
        sequence_length=None,
        dtype="int32",
        **kwargs,
    ):
        # ALBERT's models have no BOS/EOS pieces; [CLS]/[SEP] are added by
        # `AlbertPreprocessor`.
        kwargs.pop("add_bos", None)
        kwargs.pop("add_eos", None)
        # keras_hub >= 0.27 runs eager calls through the `sentencepiece`
        # Python package by default. Keep the TF path so eager calls and
        # tf.data/exported graphs share one normalisation implementation.
        for key, value in compat.tf_workflow_kwargs().items():
            kwargs.setdefault(key, value)
        self.lowercase = bool(lowercase)
        self.strip_accents = (
            self.lowercase if strip_accents is None else bool(strip_accents)
        )
        self._add_special_token("<pad>", "pad_token")
        self._add_special_token("<unk>", "unk_token")
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[MASK]", "mask_token")
        # keras_hub models look for start/end tokens under these names.
        self._add_special_token("[CLS]", "start_token")
        self._add_special_token("[SEP]", "end_token")
        super().__init__(
            proto=proto, sequence_length=sequence_length, dtype=dtype, **kwargs
        )
        self.file_assets = [PROTO_FILENAME]
        # No weights to build. A task tracks its preprocessor's tokenizer
        # as a sublayer, and one unbuilt sublayer makes Keras' JAX
        # `predict` rebuild the model with an eager forward pass (one
        # compile per op and shape) on every call.
        self.built = True

    def set_proto(self, proto):
        """Loads a SentencePiece model (path or bytes); checks specials."""
        if proto is None:
            return super().set_proto(None)
        proto = _proto_bytes(proto)
        if isinstance(proto, bytes):
            # Validate before the base class mutates any state.
            _check_proto(proto)
        super().set_proto(proto)

    def _update_special_token_ids(self):
        # Reached with a proto already checked, except for base64 strings.
        vocabulary = set(self.get_vocabulary())
        missing = [t for t in SPECIAL_TOKENS if t not in vocabulary]
        if missing:
            _check_proto(self.proto)
        super()._update_special_token_ids()

    def normalize(self, inputs):
        """Applies ALBERT's normalisation to a string tensor (TF ops)."""
        return normalize_text_graph(
            inputs, lowercase=self.lowercase, strip_accents=self.strip_accents
        )

    def _set_proto_tf(self, proto):
        super()._set_proto_tf(proto)
        # The model goes into a resource of its own, which clearing TF's
        # kernel cache (`keras.utils.set_random_seed`, `clear_session`)
        # does not delete (see `sentencepiece_resource`).
        compat.replace_sentencepiece_model(
            compat.sentence_piece_op(self),
            SentencepieceModelResource(proto))

    @preprocessing_function
    def _tokenize_tf(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype != tf.string:
            raise ValueError(
                "AlbertTokenizer takes strings. Received a tensor of dtype "
                f"{inputs.dtype.name}."
            )
        return super()._tokenize_tf(self.normalize(inputs))

    def _tokenize_spm(self, inputs):
        # Only reached with `_allow_python_workflow=True` (e.g. Grain
        # without TensorFlow); keep the same normalisation there.
        def norm(text):
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            return normalize_text_python(
                text, lowercase=self.lowercase, strip_accents=self.strip_accents
            )

        if isinstance(inputs, (str, bytes)):
            inputs = norm(inputs)
        elif isinstance(inputs, (list, tuple)):
            inputs = [norm(t) for t in inputs]
        else:
            inputs = keras.ops.convert_to_numpy(inputs)
            inputs = (
                norm(inputs.item())
                if inputs.ndim == 0
                else [norm(t) for t in inputs.tolist()]
            )
        return super()._tokenize_spm(inputs)

    def tokenize_tf(self, inputs):
        """Tokenizes to TF tensors on any backend (ragged for batches).

        Unlike calling the layer, the result is never converted to the
        active backend's types; use this in TF-side pipelines.
        """
        self._check_vocabulary()
        with no_convert_scope():
            return self._tokenize_tf(inputs)

    def save_assets(self, dir_path):
        """Writes the SentencePiece model to `dir_path/spiece.model`."""
        self._check_vocabulary()
        with open(os.path.join(dir_path, PROTO_FILENAME), "wb") as f:
            f.write(self.proto)

    def load_assets(self, dir_path):
        """Loads the SentencePiece model from `dir_path/spiece.model`."""
        self.set_proto(os.path.join(dir_path, PROTO_FILENAME))

    @classmethod
    def from_file(cls, path, **kwargs):
        """Builds a tokenizer from a SentencePiece `.model` file."""
        return cls(proto=os.fspath(path), **kwargs)

    @classmethod
    def load_from_dir(cls, dir_path, **kwargs):
        """Builds a tokenizer from `dir_path/spiece.model`."""
        return cls(proto=os.path.join(dir_path, PROTO_FILENAME), **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("add_bos", None)
        config.pop("add_eos", None)
        # `proto` stays None: the model travels as an asset (spiece.model).
        config.update(
            {
                "lowercase": self.lowercase,
                "strip_accents": self.strip_accents,
            }
        )
        return config
