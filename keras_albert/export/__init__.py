"""Serving exports: TF SavedModel (raw strings in, named outputs out) and
TFLite (token ids in). TensorFlow-only code lives in this package.

Names are imported on first use, so the command's parser (`export_cli`)
loads without TensorFlow."""

from typing import TYPE_CHECKING

from keras_albert.utils.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from keras_albert.export.saved_model import export_saved_model
    from keras_albert.export.saved_model import serving_model
    from keras_albert.export.tflite_export import export_tflite
    from keras_albert.export.tflite_model import TFLiteModel
    from keras_albert.export.tflite_model import load_tflite_preprocessor

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "TFLiteModel": "keras_albert.export.tflite_model",
    "export_saved_model": "keras_albert.export.saved_model",
    "export_tflite": "keras_albert.export.tflite_export",
    "load_tflite_preprocessor": "keras_albert.export.tflite_model",
    "serving_model": "keras_albert.export.saved_model",
})
