"""The serving form of every model: token ids in, named outputs out.

Shared by the SavedModel and TFLite exporters. Runs on any Keras backend
(TensorFlow-only ops are used only when the backend is TensorFlow, where
they spare TFLite a missing builtin).
"""

import keras
from keras import ops

TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")
# Longest answer span `question_answerer` exports decode, as in SQuAD
# evaluation scripts (`max_answer_length=30` pieces).
DEFAULT_MAX_ANSWER_LENGTH = 30

_KINDS = (
    ("keras_albert.tasks.albert_classifier", "AlbertClassifier",
     "classifier"),
    ("keras_albert.tasks.albert_token_classifier", "AlbertTokenClassifier",
     "token_classifier"),
    ("keras_albert.tasks.albert_question_answerer", "AlbertQuestionAnswerer",
     "question_answerer"),
    ("keras_albert.tasks.albert_multiple_choice", "AlbertMultipleChoice",
     "multiple_choice"),
    ("keras_albert.models.albert_backbone", "AlbertBackbone", "backbone"),
)


def task_kind(model):
    """`"classifier"`, `"token_classifier"`, `"question_answerer"`,
    `"multiple_choice"` or `"backbone"`."""
    import importlib

    for module, name, kind in _KINDS:
        if isinstance(model, getattr(importlib.import_module(module), name)):
            return kind
    raise ValueError(
        "export supports AlbertBackbone, AlbertClassifier, "
        "AlbertTokenClassifier, AlbertQuestionAnswerer and "
        f"AlbertMultipleChoice. Received: {type(model).__name__}."
    )


def token_rank(model):
    """Rank of the token inputs: 3 (`batch, choices, length`) for multiple
    choice, else 2."""
    return 3 if task_kind(model) == "multiple_choice" else 2


def token_signature(model):
    """`{name: tf.TensorSpec}` of the token-id inputs: batch and length
    dynamic, a multiple-choice model's option count fixed."""
    import tensorflow as tf

    shape = (None, None) if token_rank(model) == 2 else (
        None, model.num_choices, None)
    return {name: tf.TensorSpec(shape, tf.int32, name=name)
            for name in TOKEN_INPUTS}


class _ArgMax(keras.layers.Layer):
    """int32 argmax over the last axis.

    On TensorFlow it is `tf.argmax` itself: `keras.ops.argmax` adds a
    bitwise test for -0.0 (`BitwiseAnd`) that TFLite has no builtin for.
    """

    def call(self, x):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            return tf.argmax(x, axis=-1, output_type=tf.int32)
        return ops.cast(ops.argmax(x, axis=-1), "int32")

    def compute_output_shape(self, shape):
        return shape[:-1]

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape[:-1], dtype="int32")


class _BestSpan(keras.layers.Layer):
    """The highest-scoring answer span of each row, in the graph.

    A span `(i, j)` scores `start_logits[i] + end_logits[j]` and is allowed
    when `i <= j < i + max_answer_length` and both ends are context pieces:
    segment 1, not padding, and not the closing `[SEP]` (the last segment-1
    position). Also returns the null score (`[CLS]`, position 0) that
    SQuAD 2.0 compares against. Positions are piece indexes; map them to
    characters with the preprocessor's offsets on the client.
    """

    def __init__(self, max_answer_length=DEFAULT_MAX_ANSWER_LENGTH,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_answer_length = int(max_answer_length)

    def call(self, start_logits, end_logits, segment_ids, padding_mask):
        context = ops.logical_and(ops.equal(segment_ids, 1),
                                  ops.not_equal(padding_mask, 0))
        # Drop the closing [SEP]: a context piece must have one after it.
        after = ops.concatenate(
            [context[:, 1:], ops.zeros_like(context[:, :1])], axis=1)
        valid = ops.logical_and(context, after)
        length = ops.shape(start_logits)[1]
        # New axes via expand_dims, not `x[:, None]`: TFLite has no builtin
        # for strided slices that add axes.
        positions = ops.arange(length)
        offset = ops.expand_dims(positions, 0) - ops.expand_dims(
            positions, 1)  # j - i
        allowed = ops.logical_and(offset >= 0,
                                  offset < self.max_answer_length)
        allowed = ops.logical_and(
            ops.expand_dims(allowed, 0),
            ops.logical_and(ops.expand_dims(valid, 2),
                            ops.expand_dims(valid, 1)))
        scores = ops.expand_dims(start_logits, 2) + ops.expand_dims(
            end_logits, 1)
        scores = ops.where(allowed, scores, ops.full_like(scores, -1e9))
        flat = ops.reshape(scores, (ops.shape(scores)[0], -1))
        best = _ArgMax()(flat)
        return {
            "span_start": ops.cast(best // length, "int32"),
            "span_end": ops.cast(best % length, "int32"),
            "span_score": ops.max(flat, axis=-1),
            "null_score": start_logits[:, 0] + end_logits[:, 0],
        }

    def compute_output_spec(self, start_logits, *args):
        batch = start_logits.shape[:1]
        return {
            "span_start": keras.KerasTensor(batch, dtype="int32"),
            "span_end": keras.KerasTensor(batch, dtype="int32"),
            "span_score": keras.KerasTensor(batch, dtype=start_logits.dtype),
            "null_score": keras.KerasTensor(batch, dtype=start_logits.dtype),
        }

    def get_config(self):
        config = super().get_config()
        config["max_answer_length"] = self.max_answer_length
        return config


def _classes(outputs, activation=None):
    """Probabilities, labels (and logits) from class scores."""
    named = {}
    if activation is None:
        named["logits"] = outputs
        named["probabilities"] = ops.softmax(outputs, axis=-1)
    else:
        # softmax outputs are already probabilities; other activations
        # (e.g. sigmoid, multi-label) are reported as they are.
        named["probabilities"] = outputs
    named["labels"] = _ArgMax(name="labels")(outputs)
    return named


def serving_model(model, max_answer_length=DEFAULT_MAX_ANSWER_LENGTH):
    """Wraps `model` in a functional model with named serving outputs.

    | model | outputs |
    |---|---|
    | `AlbertClassifier` | `logits`, `probabilities`, `labels`; regression (`num_classes=1`): `scores` |
    | `AlbertTokenClassifier` | per piece: `logits`, `probabilities`, `labels` (tag ids; names in the export settings) |
    | `AlbertQuestionAnswerer` | `start_logits`, `end_logits`, best span `span_start`/`span_end` (piece indexes), `span_score`, `null_score` |
    | `AlbertMultipleChoice` | per option: `logits`, `probabilities`; `labels` (the chosen option) |
    | `AlbertBackbone` | `pooled_output`, `sequence_output` |

    The wrapper shares the model's layers and weights; inputs are
    `token_ids`, `segment_ids`, `padding_mask` of shape `(batch, length)`
    (`(batch, choices, length)` for multiple choice).

    Args:
        model: one of the models above.
        max_answer_length: longest span (in pieces) a question answerer's
            `span_*` outputs consider.

    Returns:
        A `keras.Model` on the token-id dict with a dict of named outputs.

    Example:
    ```python
    wrapped = serving_model(classifier)
    wrapped(classifier.preprocessor(["a film"]))["labels"]
    ```
    """
    kind = task_kind(model)
    shape = (None,) * (token_rank(model) - 1)
    inputs = {
        name: keras.Input(shape=shape, dtype="int32", name=name)
        for name in TOKEN_INPUTS
    }
    if kind == "backbone":
        outputs = model(inputs)
        named = {
            "pooled_output": outputs["pooled_output"],
            "sequence_output": outputs["sequence_output"],
        }
        return keras.Model(inputs, named, name=f"{model.name}_serving")
    # The task's graph without the task object: the task tracks its
    # preprocessor, whose tensorflow-text resource would otherwise be
    # saved (and required by the server) even in a token-id export.
    core = keras.Model(model.input, model.output, name=model.name)
    outputs = core(inputs)
    if kind == "classifier" and model.num_classes == 1:
        named = {"scores": outputs}
    elif kind == "classifier":
        named = _classes(outputs, model.activation)
    elif kind in ("token_classifier", "multiple_choice"):
        named = _classes(outputs)
    else:
        named = dict(outputs)
        named.update(_BestSpan(max_answer_length, name="best_span")(
            outputs["start_logits"], outputs["end_logits"],
            inputs["segment_ids"], inputs["padding_mask"]))
    return keras.Model(inputs, named, name=f"{model.name}_serving")


def export_settings(model, preprocessor,
                    max_answer_length=DEFAULT_MAX_ANSWER_LENGTH):
    """The JSON-able description written next to exported artifacts:
    task, inputs, label names and the preprocessing settings a client
    needs to tokenize the same way."""
    kind = task_kind(model)
    settings = {
        "task": kind,
        "keras_backend": keras.backend.backend(),
        "inputs": list(TOKEN_INPUTS),
        "input_rank": token_rank(model),
    }
    if kind == "classifier":
        settings["num_classes"] = model.num_classes
    elif kind == "token_classifier":
        settings["labels"] = list(model.labels)
    elif kind == "multiple_choice":
        settings["num_choices"] = model.num_choices
    elif kind == "question_answerer":
        settings["max_answer_length"] = int(max_answer_length)
    if preprocessor is not None:
        tokenizer = preprocessor.tokenizer
        settings["preprocessor"] = {
            "class": type(preprocessor).__name__,
            "config": {
                key: value for key, value in preprocessor.get_config().items()
                if key not in ("tokenizer", "name", "trainable", "dtype")
            },
            "sequence_length": preprocessor.sequence_length,
            "lowercase": tokenizer.lowercase,
            "strip_accents": tokenizer.strip_accents,
            "pad_token_id": tokenizer.pad_token_id,
            "cls_token_id": tokenizer.cls_token_id,
            "sep_token_id": tokenizer.sep_token_id,
        }
        for key in ("truncate", "pad_to_multiple_of"):
            if hasattr(preprocessor, key):
                settings["preprocessor"][key] = getattr(preprocessor, key)
    return settings
