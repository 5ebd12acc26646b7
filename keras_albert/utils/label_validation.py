"""Checks of labels, targets and sample weights before training.

A class label out of range trains silently on some backends (JAX's
one-hot of `5` with two classes is all zeros), a NaN regression target
turns every weight into NaN, and label names (`"pos"`) fail deep inside
the loss. These checks run on concrete values (numpy, lists, eager
tensors) before `fit`/`evaluate` hand them to Keras; `graph_checks`
asserts the same in `tf.data` pipelines, with the same messages.

Example:
```python
check_targets([0, 1, 1], num_classes=2)   # fine
check_targets([0, 5], num_classes=2)      # ValueError: Label 5 is out...
check_targets([0.5, np.nan], num_classes=1)  # ValueError: ... NaN ...
```
"""

import numpy as np

from keras_albert.utils.input_validation import is_concrete


def label_range_message(bad, num_classes):
    return (
        f"Label {bad} is out of range for {num_classes} classes (valid "
        f"labels: 0..{num_classes - 1})."
    )


def not_a_class_id_message(bad, num_classes):
    return (
        f"Label {bad} is not a class id: labels are whole numbers "
        f"0..{num_classes - 1}."
    )


def non_finite_message(bad, what="Label"):
    """`what`: `"Label"` (class ids), `"Target"` (regression), `"A label
    score"` (one-hot rows) or `"`sample_weight`"`."""
    return (
        f"{what} {bad} is not a finite number; training on it would turn "
        "the weights into NaN. Fix or drop those examples."
    )


def target_name(num_classes, dense):
    """What a value of `y` is called in messages."""
    if num_classes == 1:
        return "Target"
    return "A label score" if dense else "Label"


def _as_array(values):
    """A numpy view of concrete `values`, or None (symbolic, datasets,
    dicts and other structures are left to their own checks)."""
    if values is None or isinstance(values, dict):
        return None
    if not is_concrete(values):
        return None
    if isinstance(values, (list, tuple, np.ndarray, np.generic, int)):
        try:
            return np.asarray(values)
        except ValueError:  # ragged lists
            return np.asarray(values, dtype=object)
    import keras

    return np.asarray(keras.ops.convert_to_numpy(values))


def _first(array, where):
    return array[where].flat[0]


def _number_array(array, what):
    kind = array.dtype.kind
    if kind in "USO":
        sample = next((v for v in array.flat
                       if isinstance(v, (str, bytes))), None)
        if isinstance(sample, str):
            sample = str(sample)  # np.str_ -> str, for the message
        if sample is None and kind == "O":
            try:
                return array.astype("float64")
            except (TypeError, ValueError):
                pass
        raise ValueError(
            f"{what} must be numbers; received "
            + (f"strings such as {sample!r}. Map label names to class ids "
               "first." if sample is not None else
               f"{array.dtype} values.")
        )
    if kind == "c":
        raise ValueError(f"{what} must be real numbers; received complex.")
    return array


def check_targets(y, num_classes, label_rank=1):
    """Raises ValueError for labels a model cannot train on.

    Args:
        y: labels or targets (numpy array, list, eager tensor); anything
            else (None, a dataset, a dict) passes unchecked.
        num_classes: int. Above 1: class ids `0..num_classes-1` (floats
            must be whole numbers), or one-hot/score rows `num_classes`
            wide (more than `label_rank` axes), which must be finite.
            1: real-valued targets (regression), which must be finite.
        label_rank: int. Axes of a batch of class ids: 1 for one label
            per example, 2 for one per token.

    Returns:
        `y`, unchanged.
    """
    array = _as_array(y)
    if array is None or array.size == 0:
        return y
    array = _number_array(array, "Labels")
    if array.dtype.kind == "b":
        return y
    dense = num_classes == 1 or (
        array.ndim > label_rank and array.shape[-1] == num_classes
    )
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(non_finite_message(
                _first(array, ~finite), target_name(num_classes, dense)))
        if not dense:
            whole = array == np.floor(array)
            if not whole.all():
                raise ValueError(not_a_class_id_message(
                    _first(array, ~whole), num_classes))
    if not dense:
        high, low = array.max(), array.min()
        if high >= num_classes or low < 0:
            bad = high if high >= num_classes else low
            raise ValueError(label_range_message(
                int(bad) if float(bad).is_integer() else bad, num_classes))
    return y


def check_sample_weight(sample_weight):
    """Raises ValueError for non-numeric or non-finite sample weights;
    returns them unchanged."""
    array = _as_array(sample_weight)
    if array is None or array.size == 0:
        return sample_weight
    array = _number_array(array, "`sample_weight`")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(non_finite_message(
                _first(array, ~finite), "`sample_weight`"))
    return sample_weight
