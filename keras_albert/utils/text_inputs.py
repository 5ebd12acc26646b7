"""The one place that decides whether an input is raw text.

Tasks, preprocessors and exporters all need to tell raw strings from token
ids and labels; they ask these functions so that "a batch of strings" means
the same everywhere (a Python string, a list or tuple of `str`/`bytes`, a
numpy array of strings or objects holding strings, a `tf.string` tensor).
No TensorFlow import: a tensor is recognised by its dtype's name.
"""

import numpy as np


def is_string(value):
    """True for one `str` or `bytes` value."""
    return isinstance(value, (str, bytes))


def is_text_batch(x):
    """True for a string or a batch of strings (not labels, not ids).

    Example:
    ```python
    is_text_batch(["a b", "c"])        # True
    is_text_batch(np.array(["a"]))     # True
    is_text_batch([1, 2])              # False
    ```
    """
    if is_string(x):
        return True
    if isinstance(x, (list, tuple)):
        return bool(x) and all(is_string(v) for v in x)
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "SU":
            return True
        return x.dtype == object and x.size > 0 and all(
            is_string(v) for v in x.flat
        )
    dtype = getattr(x, "dtype", None)
    return getattr(dtype, "name", None) == "string"


def is_text_pair(x):
    """True for a `(text_a, text_b)` tuple of two text batches."""
    return isinstance(x, tuple) and len(x) == 2 and all(
        is_text_batch(v) for v in x
    )


def is_text_input(x):
    """True for what `AlbertPreprocessor` packs: a text batch or a pair."""
    return is_text_batch(x) or is_text_pair(x)
