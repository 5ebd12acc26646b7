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


def as_text_array(x):
    """A text batch as a 1-D numpy array of `str`: one string becomes a
    batch of one, `bytes` are decoded as UTF-8 (invalid bytes become
    U+FFFD, as in exported models), tensors are read out.

    Raises:
        ValueError: for a batch that is not 1-D.
    """
    if is_string(x):
        x = [x]
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    array = np.asarray(x, dtype=object)
    if array.ndim != 1:
        raise ValueError(
            "A batch of texts must be a flat list of strings; received "
            f"shape {array.shape}."
        )
    return np.array(
        [v.decode("utf-8", "replace") if isinstance(v, bytes) else v
         for v in array], dtype=object)


def is_empty_batch(x):
    """True for an empty list/tuple/array, a pair of empty batches, or a
    dict whose values are all empty."""
    if isinstance(x, dict):
        return bool(x) and all(is_empty_batch(v) for v in x.values())
    if isinstance(x, tuple) and x and all(
        isinstance(v, (list, tuple, np.ndarray)) for v in x
    ):
        return all(len(v) == 0 for v in x)
    if isinstance(x, (list, tuple)):
        return len(x) == 0
    if isinstance(x, np.ndarray):
        return x.ndim >= 1 and x.shape[0] == 0
    # Tensors of any backend (a symbolic batch size is None, not 0).
    shape = getattr(x, "shape", None)
    return shape is not None and len(shape) >= 1 and shape[0] == 0
