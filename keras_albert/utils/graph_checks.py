"""The input checks of `input_validation` and `label_validation`, in graph.

Inside a `tf.function` (TensorFlow `fit`/`predict`, SavedModel
signatures, `tf.data` pipelines) values are unknown while Python runs, so
a concrete check cannot see them. These functions add the same checks as
TensorFlow assertions: a bad value raises `tf.errors.InvalidArgumentError`
whose message is the eager `ValueError`'s, e.g. `Token id 999 is out of
range for a vocabulary of 160 tokens ...`. The message is formatted only
when a check fails, so a good batch pays a few reductions and one
`tf.cond`.

Two places cannot hold assertions:

- XLA (`jit_compile=True`): an `Assert` compiles to nothing and string
  ops do not compile at all. In an XLA-compiled function no check is
  added; Keras' `fit`/`evaluate`/`predict` on a task check each batch
  before the compiled step instead (`checked_dataset`, and the eager
  checks of numpy inputs), on every backend.
- TFLite (builtin ops only): exporters trace inside `skip_graph_checks()`
  and `TFLiteModel` checks ids on the client side.

TensorFlow is imported only when a check is built.

Example:
```python
@tf.function
def embed(token_ids, segment_ids):
    token_ids, segment_ids = assert_token_ids(
        token_ids, segment_ids, vocabulary_size=160, num_segments=2,
        max_sequence_length=64)
    ...
```
"""

import contextlib
import contextvars

from keras_albert.utils import compat
from keras_albert.utils.input_validation import empty_sequence_message
from keras_albert.utils.input_validation import length_message
from keras_albert.utils.input_validation import segment_id_message
from keras_albert.utils.input_validation import token_id_message
from keras_albert.utils.label_validation import label_range_message
from keras_albert.utils.label_validation import non_finite_message
from keras_albert.utils.label_validation import not_a_class_id_message
from keras_albert.utils.label_validation import target_name

_SKIP = contextvars.ContextVar("keras_albert_skip_graph_checks",
                               default=False)


@contextlib.contextmanager
def skip_graph_checks():
    """Graphs traced inside this context get no assertions (for
    exporters whose format has none, e.g. TFLite's builtin ops)."""
    token = _SKIP.set(True)
    try:
        yield
    finally:
        _SKIP.reset(token)


def graph_checks_enabled():
    """False inside `skip_graph_checks()` and while tracing for XLA."""
    return not _SKIP.get() and not compat.in_xla_context()


def _tf():
    import tensorflow as tf

    return tf


def _range(values):
    """`(max, min)` of an integer tensor; an empty tensor gives
    `(dtype.min, dtype.max)`, which no range check rejects."""
    tf = _tf()
    return tf.reduce_max(values), tf.reduce_min(values)


def _guard(problems):
    """One `tf.cond` over `[(ok, make_message), ...]`: when a check fails
    its message (the first failing one, in list order) is formatted and
    raised. Returns the op to depend on."""
    tf = _tf()
    all_ok = tf.reduce_all(tf.stack([ok for ok, _ in problems]))

    def first_message(i):
        # Only the failing check's message is formatted: another's may
        # not be computable (e.g. "the first NaN" of a batch without).
        if i == len(problems) - 1:
            return problems[i][1]()
        ok, make_message = problems[i]
        return tf.cond(ok, lambda: first_message(i + 1), make_message)

    def fail():
        check = tf.debugging.Assert(all_ok, [first_message(0)], summarize=1)
        with tf.control_dependencies([check]):
            return tf.constant(False)

    return tf.cond(all_ok, lambda: tf.constant(True), fail)


def _after(guard, tensors):
    tf = _tf()
    with tf.control_dependencies([guard]):
        return tuple(None if t is None else tf.identity(t) for t in tensors)


def _format(template, value):
    tf = _tf()
    return tf.strings.format(template, [value])


def _first(values, where):
    """The first element of `values` where `where` holds (one exists)."""
    tf = _tf()
    return tf.boolean_mask(values, where)[0]


def _id_problem(values, limit, message):
    tf = _tf()
    high, low = _range(values)
    bad = tf.where(high >= limit, high, low)
    return ((high < limit) & (low >= 0),
            lambda: _format(message("{}", limit), bad))


def assert_token_ids(token_ids, segment_ids, padding_mask=None, *,
                     vocabulary_size, num_segments,
                     max_sequence_length=None):
    """Asserts in graph what `check_input_dict` checks eagerly: at least
    one and at most `max_sequence_length` positions (the last axis),
    token ids in `0..vocabulary_size-1`, segment ids in
    `0..num_segments-1`, and (with `padding_mask`) equal shapes.

    Returns:
        `(token_ids, segment_ids)`, or with `padding_mask` the three
        inputs, as tensors that run only after the checks passed (so a
        gather or slice downstream never sees a bad value first). Where
        checks are off (`graph_checks_enabled()`), the inputs unchanged.
    """
    inputs = (token_ids, segment_ids) + (
        () if padding_mask is None else (padding_mask,))
    if not graph_checks_enabled():
        return inputs
    tf = _tf()
    token_ids = tf.convert_to_tensor(token_ids)
    segment_ids = tf.convert_to_tensor(segment_ids)
    length = tf.shape(token_ids)[-1]
    batch = tf.reduce_prod(tf.shape(token_ids)[:-1])
    problems = []
    others = [t for t in inputs[1:]]
    for other in others:
        other = tf.convert_to_tensor(other)
        if other.shape.rank != token_ids.shape.rank:
            continue  # the static shape check (eager code) reports it
        problems.append((
            tf.reduce_all(tf.equal(tf.shape(other), tf.shape(token_ids))),
            lambda other=other: tf.strings.format(
                "`token_ids`, `segment_ids` and `padding_mask` must have the "
                "same shape. Received shapes {} and {}.",
                [tf.shape(token_ids), tf.shape(other)]),
        ))
    problems.append((
        (length > 0) | tf.equal(batch, 0),
        lambda: tf.constant(empty_sequence_message()),
    ))
    if max_sequence_length is not None:
        problems.append((
            length <= max_sequence_length,
            lambda: _format(length_message("{}", max_sequence_length),
                            length),
        ))
    problems.append(_id_problem(token_ids, vocabulary_size,
                                token_id_message))
    problems.append(_id_problem(segment_ids, num_segments,
                                segment_id_message))
    return _after(_guard(problems), inputs)


def assert_targets(y, num_classes, label_rank=1):
    """Asserts in graph what `check_targets` checks eagerly.

    Args:
        y: labels or targets of one batch.
        num_classes: int. Above 1: class ids `0..num_classes-1` (float
            ids must be whole numbers), or rows of `num_classes` scores
            (one-hot) when `y` has more than `label_rank` axes and its
            last is `num_classes` wide, which must be finite. 1: real
            targets (regression), which must be finite.
        label_rank: int. Axes of a batch of class ids (1 for one label
            per example, 2 for one per token).

    Returns:
        `y`, running only after the checks passed.
    """
    if not graph_checks_enabled():
        return y
    tf = _tf()
    y = tf.convert_to_tensor(y)
    if y.dtype == tf.string:
        raise ValueError(
            "Labels must be numbers; this dataset holds strings. Map label "
            "names to class ids first.")
    if y.dtype.is_bool:
        return y
    dense = num_classes == 1 or (
        y.shape.rank is not None and y.shape.rank > label_rank
        and y.shape[-1] == num_classes and num_classes > 1)
    problems = []
    if y.dtype.is_floating:
        finite = tf.math.is_finite(y)
        what = target_name(num_classes, dense)
        problems.append((
            tf.reduce_all(finite),
            lambda: _format(non_finite_message("{}", what),
                            _first(y, tf.logical_not(finite))),
        ))
        if not dense:
            whole = tf.equal(y, tf.math.floor(y)) | tf.logical_not(finite)
            problems.append((
                tf.reduce_all(whole),
                lambda: _format(not_a_class_id_message("{}", num_classes),
                                _first(y, tf.logical_not(whole))),
            ))
    if not dense:
        ids = y if y.dtype.is_integer else tf.cast(
            tf.where(tf.math.is_finite(y), y, tf.zeros_like(y)), tf.int64)
        problems.append(_id_problem(ids, num_classes, label_range_message))
    if not problems:
        return y
    return _after(_guard(problems), (y,))[0]


def assert_finite_weights(sample_weight):
    """Asserts that sample weights are finite; returns them."""
    if not graph_checks_enabled():
        return sample_weight
    tf = _tf()
    sample_weight = tf.convert_to_tensor(sample_weight)
    if not sample_weight.dtype.is_floating:
        return sample_weight
    finite = tf.math.is_finite(sample_weight)
    problem = (tf.reduce_all(finite), lambda: _format(
        non_finite_message("{}", "`sample_weight`"),
        _first(sample_weight, tf.logical_not(finite))))
    return _after(_guard([problem]), (sample_weight,))[0]
