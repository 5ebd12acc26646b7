"""SavedModel export with in-graph SentencePiece tokenization.

TensorFlow-only code: the exported graph runs tensorflow-text ops, so this
module imports TensorFlow, but it works from the TensorFlow and JAX Keras
backends (JAX goes through `keras.export.ExportArchive`'s jax2tf path).
"""

import json
import os

import keras

from keras_albert.export.serving_model import TOKEN_INPUTS
from keras_albert.export.serving_model import export_settings
from keras_albert.export.serving_model import serving_model
from keras_albert.export.serving_model import token_signature
from keras_albert.export.tf_logs import without_asset_logs
from keras_albert.utils import compat
from keras_albert.utils.atomic_files import atomic_directory
from keras_albert.utils.graph_checks import assert_token_ids

# Signature names (the keys of `loaded.signatures`).
TEXT_SIGNATURE = "serving_default"
PAIR_SIGNATURE = "serve_text_pair"
TOKEN_SIGNATURE = "serve_token_ids"
# Written next to `saved_model.pb` so a server-side client (or a human) can
# see which preprocessing settings were baked into the graph.
SETTINGS_FILENAME = "keras_albert_export.json"
# What an export writes in its folder.
SAVED_MODEL_ENTRIES = ("saved_model.pb", "saved_model.pbtxt", "variables",
                       "assets", "assets.extra", "fingerprint.pb",
                       SETTINGS_FILENAME)


def _tf():
    import tensorflow as tf

    return tf


def _check_backend():
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise ValueError(
            "SavedModel export runs from the TensorFlow or JAX Keras "
            f"backend; this process uses {backend!r}. Set "
            "KERAS_BACKEND=tensorflow (e.g. `KERAS_BACKEND=tensorflow "
            "keras-albert export ...`) and export again."
        )


def _clean_text(text):
    """Makes any byte string safe for the tokenizer.

    Invalid UTF-8 would make the normaliser's Unicode ops fail with an
    opaque error; replacing bad bytes with U+FFFD (which the SentencePiece
    model maps to `<unk>`) keeps serving up. Valid UTF-8 is unchanged.
    """
    tf = _tf()
    return tf.strings.unicode_transcode(
        text, input_encoding="UTF-8", output_encoding="UTF-8",
        errors="replace", replacement_char=0xFFFD,
    )


def _share_variable_storage(archive):
    """Makes Keras' ExportArchive save each weight once, not twice.

    On the TensorFlow backend (Keras 3.15) the archive lists the Keras
    variables for `.variables` and the `tf.Variable`s they wrap for the
    endpoints; the checkpoint stores both, doubling the SavedModel's size.
    Listing the wrapped `tf.Variable`s everywhere keeps one copy.
    """
    tf = _tf()
    trackable = compat.export_archive_trackable(archive)
    for name in ("variables", "trainable_variables",
                 "non_trainable_variables"):
        values = getattr(trackable, name, None)
        if values is None:
            continue
        setattr(trackable, name, [
            v if isinstance(v, tf.Variable) else getattr(v, "value", v)
            for v in values
        ])


def _checked_endpoint(archive, model_fn, model, token_spec):
    """The token endpoint with TensorFlow checks in front (JAX backend).

    On TensorFlow the model's own graph asserts ids and lengths
    (`FactorizedEmbedding`); a jax2tf-converted model cannot, so the
    checks go around it: a bad request gets an `InvalidArgumentError`
    with the message Keras would raise, not garbage or a shape error.
    """
    tf = _tf()
    backbone = getattr(model, "backbone", model)

    @tf.function(input_signature=[token_spec])
    def serve_token_ids(inputs):
        checked = assert_token_ids(
            *(inputs[name] for name in TOKEN_INPUTS),
            vocabulary_size=backbone.vocabulary_size,
            num_segments=backbone.num_segments,
            max_sequence_length=backbone.max_sequence_length,
        )
        return model_fn(dict(zip(TOKEN_INPUTS, checked)))

    compat.replace_export_endpoint(archive, TOKEN_SIGNATURE, serve_token_ids)
    return serve_token_ids


def export_saved_model(model, export_dir, preprocessor="auto",
                       text_signatures=True, verbose=False,
                       **export_options):
    """Exports a task model or backbone as a TF SavedModel for serving.

    Signatures:

    - `serving_default`: `text` (1-D string) -> named outputs. Text is
      cleaned (invalid UTF-8 replaced), normalised, tokenized with the
      tensorflow-text SentencePiece op and packed in-graph exactly like
      `AlbertPreprocessor` (same `sequence_length`, truncation and
      padding), so inputs longer than `sequence_length` are truncated.
    - `serve_text_pair`: `text_a`, `text_b` (1-D strings) -> the same
      outputs for `[CLS] a [SEP] b [SEP]`.
    - `serve_token_ids`: `token_ids`, `segment_ids`, `padding_mask` (int32
      `(batch, length)`, any length up to the backbone's
      `max_sequence_length`; `(batch, choices, length)` for multiple
      choice) -> the same outputs. Ids outside the model's tables, empty
      or over-long rows and unequal input shapes get an
      `InvalidArgumentError` with the message Keras raises for them.

    The text signatures are written for classifiers and backbones with an
    `AlbertPreprocessor` and `text_signatures=True`; otherwise
    `serving_default` is the token-id signature and the graph has no
    tensorflow-text ops, so it runs on a stock TF Serving build (clients
    tokenize with the shipped `spiece.model` and settings). Token
    classification, question answering and multiple choice need their
    word/offset alignment or windowing done by the client (their
    preprocessors, rebuilt from the settings file), so they export token
    ids only.
    Outputs are those of `serving_model`: `probabilities`, `labels` (and
    `logits`) for classifiers, `scores` for regressors, per-piece tags for
    token classifiers, start/end logits and the best span for question
    answering, per-option scores for multiple choice, `pooled_output` and
    `sequence_output` for a backbone. The SentencePiece model travels
    inside the SavedModel;
    `assets.extra/spiece.model` and `keras_albert_export.json` (the baked-in
    settings) are written beside it for clients that tokenize themselves.
    The folder is written whole or not at all: a failure, a full disk
    included, leaves a previous export in `export_dir` as it was.

    Loading needs only TensorFlow and `import tensorflow_text` (to register
    the SentencePiece ops), not `keras_albert`.

    Args:
        model: a backbone or any task model (see `serving_model`).
        export_dir: output directory (a TF Serving version directory, e.g.
            `savedmodels/albert_classifier/1`).
        preprocessor: `"auto"` uses `model.preprocessor` when the model has
            one; pass an `AlbertPreprocessor` (e.g. for a backbone) or
            `None` to export only the token-id signature.
        text_signatures: bool. Put the tokenizer in the graph (string
            signatures). `False` keeps the graph to core TensorFlow ops for
            servers without tensorflow-text, still writing `spiece.model`
            and the preprocessing settings beside it.
        verbose: bool. Let Keras print the exported endpoints.
        **export_options: the model's `export_options`, e.g.
            `max_answer_length` for question answering: the longest span
            (pieces) the `span_*` outputs consider.

    Returns:
        `export_dir`.

    Example:
    ```python
    from keras_albert.export import export_saved_model

    export_saved_model(classifier, "savedmodels/albert_classifier/1")

    import tensorflow as tf, tensorflow_text  # noqa: F401 (registers ops)
    loaded = tf.saved_model.load("savedmodels/albert_classifier/1")
    loaded.signatures["serving_default"](text=tf.constant(["a fine film"]))
    ```
    """
    _check_backend()
    tf = _tf()
    if preprocessor == "auto":
        preprocessor = getattr(model, "preprocessor", None)
    if not getattr(type(model), "text_signatures", False):
        text_signatures = False
    wrapped = serving_model(model, **export_options)

    archive = keras.export.ExportArchive()
    token_spec = token_signature(model)
    # Registered first because on JAX this is the jax2tf-converted model;
    # the string signatures below call it from plain TF.
    kwargs = {}
    if keras.backend.backend() == "jax":
        # One symbolic length shared by the three inputs: by default jax2tf
        # gives each `None` its own symbol, and then the backbone cannot
        # tell that the inputs have equal shapes.
        # The constraint lets JAX prove the position-embedding slice fits.
        max_length = getattr(model, "backbone", model).max_sequence_length
        # e.g. (None, 4, None) -> "(batch, 4, length)" for multiple choice.
        dims = [str(d) for d in token_spec["token_ids"].shape]
        dims[0], dims[-1] = "batch", "length"
        shape = f"({', '.join(dims)})"
        kwargs["jax2tf_kwargs"] = {
            "polymorphic_shapes": [
                {name: shape for name in TOKEN_INPUTS}
            ],
            "polymorphic_constraints": [f"length <= {max_length}"],
            # Serving needs no gradients, and jax2tf's gradient tracing
            # drops the constraint above.
            "with_gradient": False,
        }
    model_fn = archive.track_and_add_endpoint(
        TOKEN_SIGNATURE, wrapped, input_signature=[token_spec], **kwargs
    )
    if keras.backend.backend() == "jax":
        model_fn = _checked_endpoint(archive, model_fn, model, token_spec)

    if preprocessor is None or not text_signatures:
        archive.add_endpoint(TEXT_SIGNATURE, model_fn)
    else:
        def run(segments):
            packed = preprocessor.pack(
                tuple(_clean_text(s) for s in segments)
                if len(segments) > 1 else _clean_text(segments[0])
            )
            return model_fn(packed)

        @tf.function(input_signature=[
            tf.TensorSpec((None,), tf.string, name="text")])
        def serve_text(text):
            return run([text])

        @tf.function(input_signature=[
            tf.TensorSpec((None,), tf.string, name="text_a"),
            tf.TensorSpec((None,), tf.string, name="text_b")])
        def serve_text_pair(text_a, text_b):
            return run([text_a, text_b])

        # The traced graphs capture the tokenizer's SentencePiece model
        # resource; tracking it makes the SavedModel save it.
        serve_text.get_concrete_function()
        serve_text_pair.get_concrete_function()
        archive.track(compat.sentence_piece_op(preprocessor.tokenizer))
        archive.add_endpoint(TEXT_SIGNATURE, serve_text)
        archive.add_endpoint(PAIR_SIGNATURE, serve_text_pair)

    _share_variable_storage(archive)
    export_dir = os.fspath(export_dir)
    # Written whole or not at all: a failure (a full disk included) leaves
    # a previous export in `export_dir` as it was, and a re-export drops
    # the files of the previous one (other files there are kept).
    with atomic_directory(export_dir, owned=SAVED_MODEL_ENTRIES) as out:
        with without_asset_logs():
            archive.write_out(out, verbose=verbose)
        extra = os.path.join(out, "assets.extra")
        os.makedirs(extra, exist_ok=True)
        if preprocessor is not None:
            preprocessor.tokenizer.save_assets(extra)
        with open(os.path.join(out, SETTINGS_FILENAME), "w",
                  encoding="utf-8") as f:
            json.dump(export_settings(model, preprocessor, **export_options),
                      f, indent=2)
    return export_dir
