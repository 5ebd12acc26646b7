"""Finding, loading and saving presets (named, local and converted)."""

from keras_albert.presets.errors import PresetError
from keras_albert.presets.registry import ALBERT_PRESETS
from keras_albert.presets.registry import list_presets

__all__ = ["ALBERT_PRESETS", "PresetError", "list_presets"]
