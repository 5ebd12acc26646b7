"""The serving form of every model: token ids in, named outputs out.

Shared by the SavedModel and TFLite exporters. What a model serves is the
model's own business (`ModelContract.serving_outputs`, `export_settings`,
`serving_input_shape`); this module only wraps it, so it knows no task by
name. Runs on any Keras backend.
"""

import keras

TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")


def _export_options(model, options):
    """The options `model` takes out of `options`, which may hold options of
    other models (one call can serve any model); a name no model takes is
    an error."""
    from keras_albert.tasks import task_registry

    known = set()
    for cls in task_registry.model_classes().values():
        known.update(cls.export_options)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"Unknown export option {unknown}; the models take "
            f"{sorted(known)}."
        )
    return model.check_export_options(options)


def _check_exportable(model):
    if not getattr(type(model), "exportable", False):
        raise ValueError(
            "export serves the backbone and fine-tuned tasks (classifier, "
            "token classifier, question answerer, multiple choice). "
            f"Received: {type(model).__name__}."
        )


def token_signature(model):
    """`{name: tf.TensorSpec}` of the token-id inputs: batch and length
    dynamic, a multiple-choice model's option count fixed."""
    import tensorflow as tf

    _check_exportable(model)
    shape = model.serving_input_shape()
    return {name: tf.TensorSpec(shape, tf.int32, name=name)
            for name in TOKEN_INPUTS}


def serving_model(model, **options):
    """Wraps `model` in a functional model with named serving outputs.

    | model | outputs |
    |---|---|
    | `AlbertClassifier` | `logits`, `probabilities`, `labels`; regression (`num_classes=1`): `scores` |
    | `AlbertEarlyExitClassifier` | as `AlbertClassifier` (the exit each example took), plus `layers_used` |
    | `AlbertTokenClassifier` | per piece: `logits`, `probabilities`, `labels` (tag ids; names in the export settings) |
    | `AlbertQuestionAnswerer` | `start_logits`, `end_logits`, best span `span_start`/`span_end` (piece indexes), `span_score`, `null_score` |
    | `AlbertMultipleChoice` | per option: `logits`, `probabilities`; `labels` (the chosen option) |
    | `AlbertBackbone` | `pooled_output`, `sequence_output` |

    The wrapper shares the model's layers and weights; inputs are
    `token_ids`, `segment_ids`, `padding_mask` of shape `(batch, length)`
    (`(batch, choices, length)` for multiple choice).

    Args:
        model: one of the models above.
        **options: the model's export options (`export_options`), e.g.
            `max_answer_length` for a question answerer: the longest span
            (in pieces) its `span_*` outputs consider.

    Returns:
        A `keras.Model` on the token-id dict with a dict of named outputs.

    Example:
    ```python
    wrapped = serving_model(classifier)
    wrapped(classifier.preprocessor(["a film"]))["labels"]
    ```
    """
    _check_exportable(model)
    options = _export_options(model, options)
    shape = model.serving_input_shape()[1:]
    inputs = {
        name: keras.Input(shape=shape, dtype="int32", name=name)
        for name in TOKEN_INPUTS
    }
    # The model's graph without the model object: a task tracks its
    # preprocessor, whose tensorflow-text resource would otherwise be
    # saved (and required by the server) even in a token-id export.
    core = keras.Model(model.input, model.output, name=model.name)
    named = model.serving_outputs(core(inputs), inputs, **options)
    return keras.Model(inputs, named, name=f"{model.name}_serving")


def export_settings(model, preprocessor, **options):
    """The JSON-able description written next to exported artifacts:
    task, inputs, the task's own settings (label names, class or choice
    counts, ...) and the preprocessing settings a client needs to
    tokenize the same way."""
    _check_exportable(model)
    options = _export_options(model, options)
    settings = {
        "task": model.task_name,
        "keras_backend": keras.backend.backend(),
        "inputs": list(TOKEN_INPUTS),
        "input_rank": len(model.serving_input_shape()),
    }
    settings.update(model.export_settings(**options))
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
