"""Checks of the batches a task's `fit`, `evaluate` and `predict` will see.

Keras runs a task's step in a compiled function (a `tf.function`, an
XLA cluster, `jax.jit`), where inputs have no values and XLA has no
assertions: a bad id would be gathered silently (XLA and JAX clamp or
fill, TensorFlow on GPU returns zeros). So batches are checked before the
step, where they still have values, the same way on every backend:

- numpy arrays, lists and eager tensors: `check_arrays`, a `ValueError`;
- `tf.data.Dataset`s: `dataset` maps `graph_checks` assertions over
  every batch (inside `tf.data`, never compiled by XLA); a bad batch
  raises `tf.errors.InvalidArgumentError` with the same message;
- Python generators: `generator` checks each batch as it is drawn.

Example:
```python
checks = BatchChecks(vocabulary_size=160, num_segments=2,
                     max_sequence_length=64, num_classes=2)
checks.check_arrays(x, y)         # ValueError for bad ids or labels
dataset = checks.dataset(dataset)  # asserts on every batch
```
"""

import dataclasses

import numpy as np

from keras_albert.utils.graph_checks import assert_finite_weights
from keras_albert.utils.graph_checks import assert_targets
from keras_albert.utils.graph_checks import assert_token_ids
from keras_albert.utils.input_validation import TOKEN_INPUTS
from keras_albert.utils.input_validation import check_input_dict
from keras_albert.utils.input_validation import is_concrete
from keras_albert.utils.label_validation import check_sample_weight
from keras_albert.utils.label_validation import check_targets


def _unpack(element):
    """`(x, y, sample_weight)` of one Keras data element."""
    if isinstance(element, tuple) and 1 <= len(element) <= 3:
        return tuple(element) + (None,) * (3 - len(element))
    return element, None, None


def _repack(element, x, y, sample_weight):
    if isinstance(element, tuple) and 1 <= len(element) <= 3:
        return (x, y, sample_weight)[:len(element)]
    return x


def _kind(dtype):
    name = getattr(dtype, "name", str(dtype))
    if name == "string":
        return "strings"
    if getattr(dtype, "is_floating", False) or getattr(
            dtype, "is_complex", False):
        return "floats"
    return None


def _count(values):
    if values is None or isinstance(values, dict) or not is_concrete(values):
        return None
    shape = np.shape(values)
    return shape[0] if shape else None


def check_counts(x, y=None, sample_weight=None):
    """Raises ValueError unless concrete `y` and `sample_weight` have one
    entry per example of the token dict `x` (Keras' own message lists
    sizes without saying which is wrong)."""
    examples = _count(x.get("token_ids")) if isinstance(x, dict) else None
    for name, values in (("labels in `y`", y),
                         ("values in `sample_weight`", sample_weight)):
        count = _count(values)
        if None not in (examples, count) and count != examples:
            raise ValueError(
                f"Got {examples} examples in `x` but {count} {name}; give "
                "one per example."
            )


@dataclasses.dataclass(frozen=True)
class BatchChecks:
    """What a model takes, for checking its batches.

    Args:
        vocabulary_size: int. Token ids must be in `0..vocabulary_size-1`.
        num_segments: int. Segment ids must be in `0..num_segments-1`.
        max_sequence_length: int. The longest sequence (last axis).
        input_names: the model's input names; a batch with other keys is
            an error (Keras would silently remap them by position).
        input_rank: int. Axes of `token_ids` (2, or 3 for multiple
            choice).
        num_classes: what targets are (see `check_targets`): above 1
            class ids `0..num_classes-1`, 1 real numbers (regression),
            None unchecked (a task that checks its own).
        label_rank: int. Axes of a batch of class ids (1, or 2 for one
            label per token).
    """

    vocabulary_size: int
    num_segments: int
    max_sequence_length: int
    input_names: tuple = TOKEN_INPUTS
    input_rank: int = 2
    num_classes: int = None
    label_rank: int = 1

    # -- concrete batches ---------------------------------------------------
    def check_inputs(self, x):
        """Raises ValueError for a bad dict of concrete token inputs."""
        if not isinstance(x, dict):
            return
        token_ids = x.get("token_ids")
        if is_concrete(token_ids) and not isinstance(token_ids, int):
            self._check_rank(np.shape(token_ids))
        check_input_dict(
            x, self.vocabulary_size, self.num_segments,
            expected=self.input_names,
            max_sequence_length=self.max_sequence_length,
        )

    def _check_rank(self, shape):
        if len(shape) != self.input_rank:
            axes = ("(batch, length)" if self.input_rank == 2
                    else "(batch, num_choices, length)")
            raise ValueError(
                f"Token inputs must have shape {axes} (rank "
                f"{self.input_rank}); received `token_ids` of shape "
                f"{tuple(shape)}."
            )

    def check_targets(self, y, sample_weight=None):
        """Raises ValueError for bad concrete labels or sample weights."""
        if self.num_classes is not None:
            check_targets(y, self.num_classes, self.label_rank)
        check_sample_weight(sample_weight)

    def check_arrays(self, x, y=None, sample_weight=None):
        """`check_inputs`, `check_targets` and `check_counts`."""
        self.check_inputs(x)
        self.check_targets(y, sample_weight)
        check_counts(x, y, sample_weight)

    # -- datasets and generators ----------------------------------------------
    def _check_spec(self, spec):
        """Errors a dataset's element spec shows before any batch."""
        x, y, _ = _unpack(spec)
        if isinstance(x, dict):
            unknown = sorted(set(x) - set(self.input_names))
            missing = [k for k in self.input_names if k not in x]
            if unknown or missing:
                raise ValueError(
                    f"The model takes the inputs {list(self.input_names)}. "
                    + (f"Unknown: {unknown}. " if unknown else "")
                    + (f"Missing: {missing}." if missing else "")
                )
            for key in ("token_ids", "segment_ids"):
                what = _kind(getattr(x.get(key), "dtype", None))
                if what:
                    raise ValueError(
                        f"`{key}` must hold integers; this dataset holds "
                        f"{what}. Token ids come from the model's tokenizer "
                        "(or preprocessor)."
                    )
            shape = getattr(x.get("token_ids"), "shape", None)
            if getattr(shape, "rank", None) is not None:
                self._check_rank(tuple(shape))
        if self.num_classes is not None and _kind(
                getattr(y, "dtype", None)) == "strings":
            raise ValueError(
                "Labels must be numbers; this dataset holds strings. Map "
                "label names to class ids first."
            )

    def _assert_element(self, *element):
        element = element[0] if len(element) == 1 else element
        x, y, sample_weight = _unpack(element)
        if isinstance(x, dict) and "token_ids" in x:
            names = [k for k in TOKEN_INPUTS if k in x]
            checked = assert_token_ids(
                *(x[k] for k in names),
                vocabulary_size=self.vocabulary_size,
                num_segments=self.num_segments,
                max_sequence_length=self.max_sequence_length,
            ) if len(names) == 3 else [x[k] for k in names]
            x = dict(x, **dict(zip(names, checked)))
        if y is not None and self.num_classes is not None and not isinstance(
                y, dict):
            y = assert_targets(y, self.num_classes, self.label_rank)
        if sample_weight is not None and not isinstance(sample_weight, dict):
            sample_weight = assert_finite_weights(sample_weight)
        return _repack(element, x, y, sample_weight)

    def dataset(self, dataset):
        """`dataset` with every batch asserted in graph; a
        `tf.data.Dataset` only (others, e.g. distributed datasets, are
        returned as they are)."""
        import tensorflow as tf

        if not isinstance(dataset, tf.data.Dataset):
            return dataset
        self._check_spec(dataset.element_spec)
        # Plain Python at trace time: nothing for AutoGraph to convert.
        check = tf.autograph.experimental.do_not_convert(self._assert_element)
        return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE)

    def generator(self, generator):
        """A generator yielding `generator`'s batches, each checked."""

        def checked():
            for element in generator:
                x, y, sample_weight = _unpack(element)
                self.check_arrays(x, y, sample_weight)
                yield element

        return checked()

