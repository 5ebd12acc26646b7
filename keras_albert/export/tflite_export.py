"""TFLite export on token ids, with the SentencePiece model beside it.

The in-graph tensorflow-text tokenizer converts to TFLite only as custom
ops that the Python interpreters available here cannot run, so the
`.tflite` file takes token ids and the tokenizer ships beside it as
`<name>.spiece.model` plus `<name>.json` with the packing settings (see
`tflite_model`): each export owns its files, so several can share a
folder. Every export is run once against the Keras model before it is
kept, and its three files replace a previous export together, or not at
all.

Example:
```python
from keras_albert.export import export_tflite, TFLiteModel

export_tflite(classifier, "tflite/classifier_int8.tflite",
              quantization="dynamic_int8")
TFLiteModel("tflite/classifier_int8.tflite").predict_text(["a fine film"])
```
"""

import json
import logging
import os

import keras

from keras_albert.export import frozen_graph
from keras_albert.export.serving_model import export_settings
from keras_albert.export.serving_model import serving_model
from keras_albert.export.serving_model import token_signature
from keras_albert.export.tf_logs import without_asset_logs
from keras_albert.export.tflite_model import TFLiteModel
from keras_albert.export.tflite_model import settings_path
from keras_albert.preprocessing.albert_tokenizer import PROTO_FILENAME
from keras_albert.utils.atomic_files import atomic_files
from keras_albert.utils.graph_checks import skip_graph_checks
from keras_albert.utils.native_logs import filtered_native_stderr

QUANTIZATIONS = (None, "float16", "dynamic_int8")
logger = logging.getLogger("keras_albert")

# Native log lines of a normal conversion and check run: options the
# converter sets itself and then ignores, and the TFLite runtime saying
# which CPU delegate it chose.
_CONVERTER_NOISE = (
    "Ignored output_format.",
    "Ignored drop_control_dependency.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
)


def _not_converter_noise(line):
    return not any(line.endswith(noise) for noise in _CONVERTER_NOISE)


def export_tflite(model, path, quantization=None, preprocessor="auto"):
    """Converts a task model or backbone to a `.tflite` file on token ids.

    The flatbuffer has one signature, `serving_default`, with int32 inputs
    `token_ids`, `segment_ids` and `padding_mask` of shape `(batch,
    length)`; both dimensions are dynamic (resize the inputs, up to the
    backbone's `max_sequence_length`). Outputs are named as in
    `export_saved_model` (`probabilities`, `labels`, `logits` for a
    classifier; `pooled_output`, `sequence_output` for a backbone). Next to
    the file go `<name>.spiece.model` and `<name>.json` (task, packing
    settings and quantization), from which `load_tflite_preprocessor`
    rebuilds the exact preprocessing. The three files are written and
    checked aside, then replace a previous export of `path` together: a
    failure leaves the previous one as it was, and other exports in the
    folder are never touched.

    Args:
        model: an `AlbertClassifier` or `AlbertBackbone` (TensorFlow Keras
            backend).
        path: output `.tflite` path.
        quantization: `None` (float32), `"float16"` (weights stored as
            float16, about half the size) or `"dynamic_int8"` (int8 weights,
            activations quantized on the fly: about a quarter of the size,
            fastest on CPU, least exact).
        preprocessor: `"auto"` (the model's), an `AlbertPreprocessor` or
            `None` (no `<name>.spiece.model` is written).

    Returns:
        `path`.

    Example:
    ```python
    from keras_albert.export import export_tflite, TFLiteModel

    export_tflite(classifier, "tflite/classifier_int8.tflite",
                  quantization="dynamic_int8")
    runner = TFLiteModel("tflite/classifier_int8.tflite")
    runner.predict_text(["a fine film"])["labels"]
    ```
    """
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"`quantization` must be one of {QUANTIZATIONS}. Received: "
            f"{quantization!r}."
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "TFLite export needs the TensorFlow Keras backend; this process "
            f"uses {keras.backend.backend()!r}. Run it with "
            "KERAS_BACKEND=tensorflow (e.g. `KERAS_BACKEND=tensorflow "
            "keras-albert export PRESET OUT --format tflite`)."
        )
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path} is a directory; give the .tflite file to write, e.g. "
            f"{os.path.join(path, 'model.tflite')}."
        )
    if preprocessor == "auto":
        preprocessor = getattr(model, "preprocessor", None)
    wrapped = serving_model(model)

    @tf.function(input_signature=[token_signature(model)])
    def serve(inputs):
        return wrapped(inputs, training=False)

    # TFLite cannot freeze the variables a `While` body reads (they stay
    # resource reads that fail at run time), and unrolled layers are what
    # a mobile runtime executes best anyway; weights stay shared.
    # Builtin ops have no assertions: the id and length checks are left
    # out of the graph, and `TFLiteModel` makes them on the client side.
    with _backbone(model).encoder.unrolled(), skip_graph_checks():
        concrete = frozen_graph.freeze_variables(
            serve.get_concrete_function()
        )

    def convert(select_tf_ops):
        # The module is empty on purpose: the weights are constants now,
        # and passing the model would bring its variables back.
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [concrete], tf.Module()
        )
        if quantization == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantization == "dynamic_int8":
            # No representative dataset: weights go int8, activations stay
            # float and are quantized per call ("dynamic range").
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if select_tf_ops:
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS,
            ]
        with filtered_native_stderr(_not_converter_noise), \
                without_asset_logs():
            return converter.convert()

    select_tf_ops = False
    try:
        flatbuffer = convert(select_tf_ops=False)
    except Exception as e:  # tf's ConverterError is not importable stably.
        if "SELECT_TF_OPS" not in str(e) and "flex" not in str(e).lower():
            raise
        # Some graph op has no TFLite builtin: keep the export usable with
        # TF kernels (the "Flex" delegate that `tf.lite.Interpreter` has),
        # and say so, since plain LiteRT runtimes cannot run it.
        logger.warning(
            "TFLite builtins cannot express this model; converted with "
            "SELECT_TF_OPS (needs the Flex delegate, e.g. tf.lite."
            "Interpreter). Cause: %s", str(e).splitlines()[-1][:300],
        )
        select_tf_ops = True
        flatbuffer = convert(select_tf_ops=True)

    directory, name = os.path.split(path)
    settings = export_settings(model, preprocessor)
    settings["quantization"] = quantization
    settings["select_tf_ops"] = select_tf_ops
    settings["max_sequence_length"] = _backbone(model).max_sequence_length
    # What `TFLiteModel` checks token ids against.
    settings["vocabulary_size"] = _backbone(model).vocabulary_size
    settings["num_segments"] = _backbone(model).num_segments
    # Each export owns its tokenizer and settings, named after it, so
    # exports that share a folder never overwrite each other's files.
    spiece_name = tokenizer_filename(path)
    if preprocessor is not None:
        settings["sentencepiece_model"] = spiece_name
    # The three files are staged, checked, and only then put in place
    # together: a failure leaves a previous export of `path` as it was.
    with atomic_files(directory, [spiece_name, name,
                                  os.path.basename(settings_path(path))]
                      ) as staging:
        staged = os.path.join(staging, name)
        with open(staged, "wb") as f:
            f.write(flatbuffer)
        if preprocessor is not None:
            preprocessor.tokenizer.save_assets(staging)
            os.replace(os.path.join(staging, PROTO_FILENAME),
                       os.path.join(staging, spiece_name))
        with open(settings_path(staged), "w", encoding="utf-8") as f:
            json.dump(settings, f, indent=2)
        if not select_tf_ops:
            _check_against_keras(wrapped, staged, quantization,
                                 getattr(model, "num_choices", None))
    return path


def tokenizer_filename(path):
    """`model.tflite` -> `model.spiece.model`: the SentencePiece model an
    export writes beside its file. (Earlier exports wrote a shared
    `spiece.model`; their settings file names it, so they still load.)
    """
    return os.path.splitext(os.path.basename(os.fspath(path)))[0] + (
        ".spiece.model")


def _check_against_keras(wrapped, path, quantization, num_choices=None):
    """Runs the new file once and refuses to leave a wrong model behind.

    A converter regression (such as TF 2.21 keeping weights as resource
    variables, which LiteRT runs as NaN) must give a clear error, not a
    file that silently returns garbage.
    """
    import numpy as np

    probe = {
        "token_ids": np.array([[2, 5, 6, 3], [2, 7, 3, 0]], "int32"),
        "segment_ids": np.array([[0, 0, 1, 1], [0, 1, 1, 0]], "int32"),
        "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]], "int32"),
    }
    if num_choices:  # (batch, choices, length)
        probe = {k: np.stack([np.roll(v, i, axis=0)
                              for i in range(num_choices)], axis=1)
                 for k, v in probe.items()}
    try:
        with filtered_native_stderr(_not_converter_noise):
            got = TFLiteModel(path)(probe)
    except ImportError:
        return  # No interpreter installed: nothing to check with.
    except Exception as e:
        raise RuntimeError(
            f"The converted TFLite model cannot be run ({e}); the file was "
            "not kept. Please report it with your TensorFlow version; "
            "`export_saved_model` is unaffected."
        ) from e
    want = wrapped(probe, training=False)
    tolerance = {None: 1e-3, "float16": 5e-2}.get(quantization, 0.5)
    for name, value in want.items():
        expected = keras.ops.convert_to_numpy(value)
        if expected.dtype.kind != "f":
            continue  # argmaxes may flip on near ties once quantized
        expected = expected.astype("float64")
        actual = np.asarray(got[name], "float64")
        if not np.all(np.isfinite(actual)) or np.max(
            np.abs(actual - expected)
        ) > tolerance:
            raise RuntimeError(
                f"The converted TFLite model gives wrong `{name}` values "
                f"(NaN or off by more than {tolerance}); the file was not "
                "kept. Please report it with your TensorFlow version; "
                "`export_saved_model` is unaffected."
            )


def _backbone(model):
    return getattr(model, "backbone", model)
