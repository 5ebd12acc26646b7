"""Data readers for fine-tuning files, and small real text data sets that
need no download."""

from keras_albert.datasets.conll import conll_labels
from keras_albert.datasets.conll import load_conll
from keras_albert.datasets.python_docs import load_python_docs
from keras_albert.datasets.race import load_race
from keras_albert.datasets.squad import is_squad_v2
from keras_albert.datasets.squad import load_squad
from keras_albert.datasets.text_classification import load_text_classification

__all__ = [
    "conll_labels",
    "is_squad_v2",
    "load_conll",
    "load_python_docs",
    "load_race",
    "load_squad",
    "load_text_classification",
]
