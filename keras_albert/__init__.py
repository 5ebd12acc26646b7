"""keras-albert: ALBERT for Keras 3 on TensorFlow, JAX and PyTorch."""

from keras_albert import layers
from keras_albert.models import AlbertBackbone
from keras_albert.preprocessing import AlbertPreprocessor
from keras_albert.preprocessing import AlbertTokenizer
from keras_albert.preprocessing import train_sentencepiece
from keras_albert.presets import PresetError
from keras_albert.presets import list_presets
from keras_albert.tasks import AlbertClassifier
from keras_albert.tasks import AlbertMaskedLM
from keras_albert.tasks import AlbertMultipleChoice
from keras_albert.tasks import AlbertPretrainer
from keras_albert.tasks import AlbertQuestionAnswerer
from keras_albert.tasks import AlbertTokenClassifier
from keras_albert.version import __version__

__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertMaskedLM",
    "AlbertMultipleChoice",
    "AlbertPreprocessor",
    "AlbertPretrainer",
    "AlbertQuestionAnswerer",
    "AlbertTokenClassifier",
    "AlbertTokenizer",
    "PresetError",
    "__version__",
    "layers",
    "list_presets",
    "train_sentencepiece",
]
