"""Serving exports: TF SavedModel (raw strings in, named outputs out) and
TFLite (token ids in). TensorFlow-only code lives in this package."""

from keras_albert.export.saved_model import export_saved_model
from keras_albert.export.saved_model import serving_model
from keras_albert.export.tflite_export import export_tflite
from keras_albert.export.tflite_model import TFLiteModel
from keras_albert.export.tflite_model import load_tflite_preprocessor

__all__ = [
    "TFLiteModel",
    "export_saved_model",
    "export_tflite",
    "load_tflite_preprocessor",
    "serving_model",
]
