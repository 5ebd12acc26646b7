"""Inputs of `fit`, `evaluate` and `predict` that Keras would misread.

Keras takes arrays, dicts of arrays and datasets. Handed a dict of lists,
a list of numbers or a three-text "pair" it fails deep inside with
`Unrecognized data type`; a list of arrays it matches to the inputs by
position; `batch_size=0` it ignores. These helpers turn such inputs into
what Keras takes, or into a clear error, before it sees them.

Example:
```python
check_batch_size(0)                  # ValueError: ... positive integer
as_arrays({"token_ids": [[2, 7, 3]], ...})  # dict of numpy arrays
odd_input_message(["a", None])      # "Entry 1 of the batch is None; ..."
```
"""

import numpy as np

from keras_albert.utils.text_inputs import is_text_pair


def check_batch_size(batch_size):
    """Raises ValueError unless `batch_size` is None or an int >= 1."""
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer)) or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be a positive integer or None. Received: "
            f"{batch_size!r}."
        )


def as_arrays(x):
    """A dict of (nested) lists as numpy arrays, which Keras takes; rows
    of unequal length are an error, not a ragged object array."""
    if not isinstance(x, dict) or not any(
        isinstance(v, (list, tuple)) for v in x.values()
    ):
        return x
    arrays = {}
    for key, value in x.items():
        if not isinstance(value, (list, tuple)):
            arrays[key] = value
            continue
        try:
            arrays[key] = np.asarray(value)
        except ValueError:
            raise ValueError(
                f"The rows of `{key}` have different lengths; pad them to "
                "one length (the preprocessor does this, with "
                "`padding_mask` 0 on the padding)."
            ) from None
    return arrays


def odd_input_message(x):
    """The error message for a list or tuple that is neither a task's
    natural data nor anything Keras reads right (None among texts, nested
    texts, numbers, a list of arrays, a "pair" of three batches), or None
    for anything else."""
    if isinstance(x, tuple) and len(x) not in (1, 2) and x and all(
        isinstance(v, (list, tuple, np.ndarray)) for v in x
    ):
        return (
            f"Got a tuple of {len(x)} batches; a text pair is a tuple of "
            "two batches `(first_texts, second_texts)`."
        )
    if not isinstance(x, (list, tuple)) or not x:
        return None
    for i, value in enumerate(x):
        if value is None:
            return (
                f"Entry {i} of the batch is None; texts must be strings "
                "(use '' for an empty text)."
            )
    if all(isinstance(v, (list, tuple)) for v in x) and any(
        isinstance(w, (str, bytes)) for v in x for w in v
    ):
        return (
            "A batch of texts must be a flat list of strings; received a "
            "list of lists."
        )
    if any(isinstance(v, (str, bytes)) for v in x):
        odd = next(v for v in x if not isinstance(v, (str, bytes)))
        return (
            "A batch of texts must hold only strings; found "
            f"{type(odd).__name__} {odd!r}."
        )
    # Numbers, or arrays Keras would match to the inputs by position.
    return (
        f"Got a {type(x).__name__} of {type(x[0]).__name__}. Pass the "
        "task's natural data (e.g. a list of strings), a dict of token "
        "ids (`token_ids`, `segment_ids`, `padding_mask`) or a "
        "`tf.data.Dataset`."
    )


def split_for_validation(x, y, sample_weight, validation_split):
    """Natural data (texts, pairs, dicts of lists), labels and weights
    split like Keras splits arrays for `validation_split`, which it does
    for arrays only: the last fraction (before shuffling) is held out.

    Returns:
        `(train, validation)`, each `(x, y, sample_weight)`.
    """
    if not 0 < validation_split < 1:
        raise ValueError(
            "`validation_split` must be between 0 and 1. Received: "
            f"{validation_split}.")

    def rows(values, start, stop):
        if values is None:
            return None
        if is_text_pair(values):
            return tuple(rows(v, start, stop) for v in values)
        if isinstance(values, dict):
            return {k: rows(v, start, stop) for k, v in values.items()}
        if isinstance(values, str):
            values = [values]
        return values[start:stop]

    count = len(next(iter(x.values())) if isinstance(x, dict)
                else x[0] if is_text_pair(x)
                else [x] if isinstance(x, str) else x)
    split = int(count * (1 - validation_split))
    if split in (0, count):
        raise ValueError(
            f"`validation_split={validation_split}` of {count} examples "
            "leaves no training or no validation examples.")
    return tuple(
        tuple(rows(v, start, stop) for v in (x, y, sample_weight))
        for start, stop in ((0, split), (split, count)))
