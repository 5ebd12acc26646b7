"""Runs `.tflite` files written by `export_tflite`, with their tokenizer.

The file takes token ids; `spiece.model` and `<name>.json` (packing
settings) sit beside it, from which `load_tflite_preprocessor` rebuilds the
exact preprocessing. `TFLiteModel` runs the file with the standalone LiteRT
runtime when installed (what devices ship; the `tflite` extra installs
it), else TensorFlow's deprecated interpreter, saying so once.

Example:
```python
runner = TFLiteModel("tflite/classifier.tflite")
runner.predict_text(["a fine film"])["labels"]
```
"""

import json
import logging
import os
import warnings

import keras

from keras_albert.export.serving_model import TOKEN_INPUTS
from keras_albert.utils.input_validation import check_input_dict

# The one signature of an exported file.
SIGNATURE_KEY = "serving_default"
logger = logging.getLogger("keras_albert")
# Whether the missing-LiteRT notice was given (once per process).
_FALLBACK_SAID = False


def settings_path(path):
    """`model.tflite` -> `model.json` (the sidecar with the settings)."""
    return os.path.splitext(os.fspath(path))[0] + ".json"


def load_tflite_preprocessor(path):
    """Rebuilds the preprocessor saved beside a `.tflite` file.

    Args:
        path: the `.tflite` path given to `export_tflite`.

    Returns:
        The task's preprocessor (an `AlbertPreprocessor` for classifiers
        and backbones) with the exported settings, or `None` when the
        export had no tokenizer.
    """
    import keras_albert.preprocessing as preprocessing
    from keras_albert.preprocessing.albert_tokenizer import AlbertTokenizer

    with open(settings_path(path), encoding="utf-8") as f:
        settings = json.load(f)
    pre = settings.get("preprocessor")
    if pre is None or "sentencepiece_model" not in settings:
        return None
    spm = os.path.join(
        os.path.dirname(os.path.abspath(path)), settings["sentencepiece_model"]
    )
    tokenizer = AlbertTokenizer(
        proto=spm, lowercase=pre["lowercase"],
        strip_accents=pre["strip_accents"],
    )
    cls = getattr(preprocessing, pre.get("class", "AlbertPreprocessor"))
    # Files written before the settings carried the full config.
    config = pre.get("config") or {
        key: pre[key] for key in ("sequence_length", "truncate",
                                  "pad_to_multiple_of") if key in pre
    }
    return cls(tokenizer, **config)


def _interpreter_class(select_tf_ops=False):
    """LiteRT's interpreter (what devices ship), else TensorFlow's: for
    files that need the Flex delegate (`select_tf_ops`), which LiteRT
    lacks, or when `ai-edge-litert` is not installed (said once)."""
    global _FALLBACK_SAID
    if not select_tf_ops:
        try:
            from ai_edge_litert.interpreter import Interpreter

            return Interpreter
        except ImportError:
            if not _FALLBACK_SAID:
                _FALLBACK_SAID = True
                logger.warning(
                    "ai-edge-litert is not installed, so TFLite files run "
                    "on TensorFlow's deprecated tf.lite.Interpreter; "
                    "`pip install keras-albert[tflite]` installs LiteRT.")
    import tensorflow as tf

    return tf.lite.Interpreter


def _new_interpreter(interpreter_class, **kwargs):
    with warnings.catch_warnings():
        # TensorFlow's interpreter warns of its deprecation on every
        # construction; `_interpreter_class` says it once.
        warnings.filterwarnings(
            "ignore", message=r"\s*Warning: tf\.lite\.Interpreter is "
            "deprecated", category=UserWarning)
        return interpreter_class(**kwargs)


class TFLiteModel:
    """Runs a `.tflite` file written by `export_tflite`.

    Args:
        path: the `.tflite` path.
        num_threads: optional int for the interpreter.

    Example:
    ```python
    runner = TFLiteModel("classifier.tflite")
    runner(preprocessor(["a fine film"]))["probabilities"]
    runner.predict_text(["a fine film"])
    ```
    """

    def __init__(self, path, num_threads=None):
        self.path = os.fspath(path)
        with open(settings_path(self.path), encoding="utf-8") as f:
            self.settings = json.load(f)
        self.interpreter = _new_interpreter(
            _interpreter_class(self.settings.get("select_tf_ops", False)),
            model_path=self.path, num_threads=num_threads,
        )
        self.runner = self.interpreter.get_signature_runner(SIGNATURE_KEY)
        self._preprocessor = None

    @property
    def preprocessor(self):
        if self._preprocessor is None:
            self._preprocessor = load_tflite_preprocessor(self.path)
        return self._preprocessor

    def __call__(self, inputs):
        """Runs on a token-id dict (any `(batch, length)`); returns numpy.

        Raises:
            ValueError: for ids, lengths, keys or dtypes the model cannot
                take (the file itself has no assertions: TFLite builtins).
        """
        import numpy as np

        # Files written before the settings recorded the table sizes:
        # only negative ids can be caught.
        unknown = np.iinfo("int32").max
        check_input_dict(
            inputs, self.settings.get("vocabulary_size", unknown),
            self.settings.get("num_segments", unknown),
            max_sequence_length=self.settings.get("max_sequence_length"),
        )
        feed = {
            name: np.asarray(keras.ops.convert_to_numpy(inputs[name]),
                             dtype="int32")
            for name in TOKEN_INPUTS
        }
        # The signature runner resizes the dynamic input dims per call.
        return self.runner(**feed)

    def predict_text(self, x):
        """Tokenizes strings (or an `(a, b)` pair) with the shipped
        SentencePiece model and runs the model."""
        if self.preprocessor is None:
            raise ValueError(
                f"{self.path} was exported without a tokenizer; call the "
                "model on token ids."
            )
        packed = self.preprocessor.pack(x)
        return self({k: v.numpy() for k, v in packed.items()})
