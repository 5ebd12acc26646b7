"""SavedModel export with in-graph SentencePiece tokenization.

TensorFlow-only code: the exported graph runs tensorflow-text ops, so this
module imports TensorFlow, but it works from the TensorFlow and JAX Keras
backends (JAX goes through `keras.export.ExportArchive`'s jax2tf path).
"""

import json
import os

import keras

# Signature names (the keys of `loaded.signatures`).
TEXT_SIGNATURE = "serving_default"
PAIR_SIGNATURE = "serve_text_pair"
TOKEN_SIGNATURE = "serve_token_ids"
TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")
# Written next to `saved_model.pb` so a server-side client (or a human) can
# see which preprocessing settings were baked into the graph.
SETTINGS_FILENAME = "keras_albert_export.json"


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


def _task_kind(model):
    from keras_albert.models.albert_backbone import AlbertBackbone
    from keras_albert.tasks.albert_classifier import AlbertClassifier

    if isinstance(model, AlbertClassifier):
        return "classifier"
    if isinstance(model, AlbertBackbone):
        return "backbone"
    raise ValueError(
        "export supports `AlbertClassifier` and `AlbertBackbone` for now. "
        f"Received: {type(model).__name__}."
    )


class _ArgMax(keras.layers.Layer):
    """int32 argmax over the last axis.

    On TensorFlow it is `tf.argmax` itself: `keras.ops.argmax` adds a
    bitwise test for -0.0 (`BitwiseAnd`) that TFLite has no builtin for.
    """

    def call(self, x):
        if keras.backend.backend() == "tensorflow":
            tf = _tf()
            return tf.argmax(x, axis=-1, output_type=tf.int32)
        return keras.ops.cast(keras.ops.argmax(x, axis=-1), "int32")

    def compute_output_shape(self, shape):
        return shape[:-1]

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape[:-1], dtype="int32")


def serving_model(model):
    """Wraps `model` in a functional model with named serving outputs.

    Classifiers return `probabilities` (softmax over classes), `labels`
    (argmax, int32) and `logits`; a regressor (`num_classes=1`) returns
    `scores`. A backbone returns `pooled_output` and `sequence_output`.
    The wrapper shares the model's layers and weights.

    Args:
        model: an `AlbertClassifier` or `AlbertBackbone`.

    Returns:
        A `keras.Model` on the token-id dict with a dict of named outputs.

    Example:
    ```python
    wrapped = serving_model(classifier)
    wrapped(classifier.preprocessor(["a film"]))["labels"]
    ```
    """
    kind = _task_kind(model)
    inputs = {
        name: keras.Input(shape=(None,), dtype="int32", name=name)
        for name in TOKEN_INPUTS
    }
    if kind != "backbone":
        # The task's graph without the task object: the task tracks its
        # preprocessor, whose tensorflow-text resource would otherwise be
        # saved (and required by the server) even in a token-id export.
        model = _without_preprocessor(model)
    outputs = model(inputs)
    if kind == "backbone":
        named = {
            "pooled_output": outputs["pooled_output"],
            "sequence_output": outputs["sequence_output"],
        }
    elif model.num_classes == 1:
        named = {"scores": outputs}
    else:
        if model.activation is None:
            logits = outputs
            probabilities = keras.ops.softmax(logits, axis=-1)
            named = {"logits": logits}
        elif model.activation == "softmax":
            probabilities = outputs
            named = {}
        else:
            # Other activations (e.g. sigmoid, multi-label) are not a
            # distribution; report them as they are.
            probabilities = outputs
            named = {}
        named["probabilities"] = probabilities
        named["labels"] = _ArgMax(name="labels")(outputs)
    return keras.Model(inputs, named, name=f"{model.name}_serving")


def _without_preprocessor(task):
    core = keras.Model(task.input, task.output, name=task.name)
    for name in ("num_classes", "activation"):
        setattr(core, name, getattr(task, name))
    return core


def export_settings(model, preprocessor):
    """The JSON-able description written next to exported artifacts."""
    kind = _task_kind(model)
    settings = {
        "task": kind,
        "keras_backend": keras.backend.backend(),
        "inputs": list(TOKEN_INPUTS),
    }
    if kind == "classifier":
        settings["num_classes"] = model.num_classes
    if preprocessor is not None:
        tokenizer = preprocessor.tokenizer
        settings["preprocessor"] = {
            "sequence_length": preprocessor.sequence_length,
            "truncate": preprocessor.truncate,
            "pad_to_multiple_of": preprocessor.pad_to_multiple_of,
            "lowercase": tokenizer.lowercase,
            "strip_accents": tokenizer.strip_accents,
            "pad_token_id": tokenizer.pad_token_id,
            "cls_token_id": tokenizer.cls_token_id,
            "sep_token_id": tokenizer.sep_token_id,
        }
    return settings


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
    trackable = archive._tf_trackable
    for name in ("variables", "trainable_variables",
                 "non_trainable_variables"):
        values = getattr(trackable, name, None)
        if values is None:
            continue
        setattr(trackable, name, [
            v if isinstance(v, tf.Variable) else getattr(v, "value", v)
            for v in values
        ])


def export_saved_model(model, export_dir, preprocessor="auto",
                       text_signatures=True, verbose=False):
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
      `max_sequence_length`) -> the same outputs.

    The text signatures are only written when a preprocessor is available
    and `text_signatures=True`; otherwise `serving_default` is the token-id
    signature and the graph has no tensorflow-text ops, so it runs on a
    stock TF Serving build (clients tokenize with the shipped
    `spiece.model` and settings).
    Outputs: `probabilities`, `labels` (and `logits`) for classifiers,
    `scores` for regressors, `pooled_output` and `sequence_output` for a
    backbone. The SentencePiece model travels inside the SavedModel;
    `assets.extra/spiece.model` and `keras_albert_export.json` (the baked-in
    settings) are written beside it for clients that tokenize themselves.

    Loading needs only TensorFlow and `import tensorflow_text` (to register
    the SentencePiece ops), not `keras_albert`.

    Args:
        model: an `AlbertClassifier` or `AlbertBackbone`.
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
    wrapped = serving_model(model)

    archive = keras.export.ExportArchive()
    token_spec = {
        name: tf.TensorSpec((None, None), tf.int32, name=name)
        for name in TOKEN_INPUTS
    }
    # Registered first because on JAX this is the jax2tf-converted model;
    # the string signatures below call it from plain TF.
    kwargs = {}
    if keras.backend.backend() == "jax":
        # One symbolic length shared by the three inputs: by default jax2tf
        # gives each `None` its own symbol, and then the backbone cannot
        # tell that the inputs have equal shapes.
        # The constraint lets JAX prove the position-embedding slice fits.
        max_length = getattr(model, "backbone", model).max_sequence_length
        kwargs["jax2tf_kwargs"] = {
            "polymorphic_shapes": [
                {name: "(batch, length)" for name in TOKEN_INPUTS}
            ],
            "polymorphic_constraints": [f"length <= {max_length}"],
            # Serving needs no gradients, and jax2tf's gradient tracing
            # drops the constraint above.
            "with_gradient": False,
        }
    model_fn = archive.track_and_add_endpoint(
        TOKEN_SIGNATURE, wrapped, input_signature=[token_spec], **kwargs
    )

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

        # Trace before tracking: tracing may rebuild the tokenizer's TF
        # resource (see `AlbertTokenizer._with_live_resource`), and the one
        # the graph captured is the one that must be saved.
        serve_text.get_concrete_function()
        serve_text_pair.get_concrete_function()
        archive.track(preprocessor.tokenizer._sentence_piece)
        archive.add_endpoint(TEXT_SIGNATURE, serve_text)
        archive.add_endpoint(PAIR_SIGNATURE, serve_text_pair)

    _share_variable_storage(archive)
    export_dir = os.fspath(export_dir)
    archive.write_out(export_dir, verbose=verbose)
    extra = os.path.join(export_dir, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    if preprocessor is not None:
        preprocessor.tokenizer.save_assets(extra)
    with open(os.path.join(export_dir, SETTINGS_FILENAME), "w",
              encoding="utf-8") as f:
        json.dump(export_settings(model, preprocessor), f, indent=2)
    return export_dir
