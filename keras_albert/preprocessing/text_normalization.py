"""ALBERT's text normalisation, one definition for graphs and Python.

The functions live beside the tokenizer (`albert_tokenizer.py`); this module
gives the pretraining data tools a stable import that cannot drift from
what the tokenizer does at inference time.
"""

from keras_albert.preprocessing.albert_tokenizer import (  # noqa: F401
    normalize_text_graph as normalize_text_tf,
)
from keras_albert.preprocessing.albert_tokenizer import (  # noqa: F401
    normalize_text_python as normalize_text,
)
