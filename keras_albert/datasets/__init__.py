"""Small real text data sets that need no download."""

from keras_albert.datasets.python_docs import load_python_docs

__all__ = ["load_python_docs"]
