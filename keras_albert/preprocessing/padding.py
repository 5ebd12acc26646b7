"""The padded width of a batch: one rule for every preprocessor.

A compiled model (XLA on TensorFlow, `jax.jit`) compiles once per input
shape, so the widths batches are padded to decide how many compiles a run
pays for. Two rules, chosen by a preprocessor's `length_buckets`:

- a tuple of widths, or `"auto"` (`bucket_lengths(sequence_length)`): a
  batch is padded to the smallest width that holds its longest row, so a
  run compiles at most one shape per width (per batch size);
- None: the longest row rounded up to a multiple of `pad_to_multiple_of`
  (up to `sequence_length / pad_to_multiple_of` shapes).

Either way the width is capped at `sequence_length` (the longest row a
preprocessor packs) and is never below the longest row. `padded_length`
computes it on Python/NumPy ints (batches packed in Python) and on
TensorFlow tensors (batches packed in `tf.data` or in a preprocessing
layer's graph, exported ones included), so both paths give the same widths.
"""

import numbers

import numpy as np

try:
    import tensorflow as tf
except ImportError:
    tf = None

AUTO = "auto"

# The "auto" widths: powers of two from 16 with 1.5x steps in between
# (16, 24, 32, 48, 64, 96, ...). Measured on 2,363 stdlib docstrings
# (median 26 pieces, p90 122) in length-sorted batches of 32, computed
# tokens per useful token and distinct batch shapes: multiples of 8 1.13x
# (24 shapes), these widths 1.28x (12), powers of two 1.48x (7). A shape
# costs ALBERT-base 3.5-8 s of XLA compile on a loaded 2-core CPU, paid
# once; the 0.2x of padding saved over powers of two costs more as soon
# as a run holds a few hundred texts.
_SMALLEST_BUCKET = 16


def bucket_lengths(sequence_length):
    """The `"auto"` padded widths for rows of at most `sequence_length`.

    Powers of two from 16 and the midpoints 1.5x above them (16, 24, 32,
    48, 64, 96, 128, 192, 256, 384, 512, ...) below `sequence_length`,
    then `sequence_length` itself: about two widths per doubling, so a
    batch is at most 1.5x as wide as its longest row (1.28x the useful
    tokens over length-sorted docstrings) while a run compiles a handful
    of shapes.

    Args:
        sequence_length: int >= 1. The longest row.

    Returns:
        A tuple of increasing ints ending with `sequence_length`.

    Example:
    ```python
    bucket_lengths(128)  # (16, 24, 32, 48, 64, 96, 128)
    bucket_lengths(100)  # (16, 24, 32, 48, 64, 96, 100)
    bucket_lengths(8)    # (8,)
    ```
    """
    sequence_length = int(sequence_length)
    widths = []
    power = _SMALLEST_BUCKET
    while power < sequence_length:
        widths.append(power)
        if power * 3 // 2 < sequence_length:
            widths.append(power * 3 // 2)
        power *= 2
    widths.append(sequence_length)
    return tuple(widths)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_))


def check_length_buckets(length_buckets, sequence_length=None):
    """`length_buckets` as stored by a preprocessor: `"auto"`, None, or a
    tuple of increasing positive ints (at most `sequence_length` when it
    is given); a ValueError names what is wrong.

    Example:
    ```python
    check_length_buckets([32, 64], 128)   # (32, 64)
    check_length_buckets([64, 32], 128)   # ValueError: not increasing
    ```
    """
    if length_buckets is None or (
        isinstance(length_buckets, str) and length_buckets == AUTO
    ):
        return length_buckets
    if isinstance(length_buckets, (str, bytes)) or not isinstance(
        length_buckets, (list, tuple, np.ndarray)
    ):
        raise ValueError(
            "`length_buckets` must be \"auto\", None or a list of "
            f"increasing positive ints. Received: {length_buckets!r}."
        )
    widths = list(length_buckets)
    if not widths:
        raise ValueError(
            "`length_buckets` is empty; give at least one width, or None "
            "to pad to the longest row (rounded to `pad_to_multiple_of`)."
        )
    for width in widths:
        if not _is_int(width) or width < 1:
            raise ValueError(
                "`length_buckets` must hold positive ints. Received: "
                f"{length_buckets!r} (bad entry {width!r})."
            )
    if any(b <= a for a, b in zip(widths, widths[1:])):
        raise ValueError(
            "`length_buckets` must be strictly increasing. Received: "
            f"{length_buckets!r}."
        )
    if sequence_length is not None and widths[-1] > int(sequence_length):
        raise ValueError(
            f"`length_buckets` holds {widths[-1]}, more than "
            f"sequence_length={int(sequence_length)}: no row is that long. "
            f"Received: {length_buckets!r}."
        )
    return tuple(int(w) for w in widths)


def bucket_widths(length_buckets, sequence_length):
    """The widths in use for `length_buckets` at this `sequence_length`:
    the `"auto"` set, or the given widths up to `sequence_length` followed
    by `sequence_length`; None for None (round to a multiple instead).

    `sequence_length` may have been lowered since the buckets were
    checked (e.g. `from_preset(..., sequence_length=n)`), so wider
    buckets are dropped here rather than rejected."""
    if length_buckets is None:
        return None
    sequence_length = int(sequence_length)
    if isinstance(length_buckets, str):
        return bucket_lengths(sequence_length)
    widths = [w for w in check_length_buckets(length_buckets)
              if w < sequence_length]
    return tuple(widths) + (sequence_length,)


def padded_length(longest, pad_to_multiple_of, sequence_length,
                  length_buckets=None):
    """The width a batch whose longest row has `longest` tokens is padded to.

    With `length_buckets` (`"auto"` or widths), the smallest width that
    holds `longest` (see `bucket_widths`); without, `longest` rounded up
    to a multiple of `pad_to_multiple_of`, capped at `sequence_length`.
    Never below `longest` itself, so rows packed under a larger
    `sequence_length` (lowered since) are padded, not cut; an empty batch
    (`longest` 0) stays 0 wide.

    Args:
        longest: int, or an integer scalar TF tensor. The longest row.
        pad_to_multiple_of: int >= 1 (see `check_pad_to_multiple_of`).
            Unused with `length_buckets`.
        sequence_length: int. The cap.
        length_buckets: `"auto"`, None or a tuple of widths (see
            `check_length_buckets`).

    Returns:
        An int for an int `longest`; a scalar TF tensor of `longest`'s
        dtype for a tensor.

    Example:
    ```python
    padded_length(13, 8, 512)           # 16
    padded_length(13, 8, 14)            # 14
    padded_length(13, 1, 512)           # 13
    padded_length(40, 8, 512, "auto")   # 48
    padded_length(40, 8, 512, (32, 128))  # 128
    ```
    """
    widths = bucket_widths(length_buckets, sequence_length)
    if tf is not None and tf.is_tensor(longest):
        return _padded_length_tf(longest, pad_to_multiple_of,
                                 sequence_length, widths)
    if not _is_int(longest):
        raise TypeError(
            "`longest` must be an int or a TF integer tensor. Received: "
            f"{type(longest).__name__}."
        )
    longest = int(longest)
    if widths is not None:
        if longest == 0:
            return 0
        fitting = [w for w in widths if w >= longest]
        return fitting[0] if fitting else longest
    rounded = (longest + pad_to_multiple_of - 1) // pad_to_multiple_of * (
        pad_to_multiple_of)
    return int(max(min(rounded, sequence_length), longest))


def _padded_length_tf(longest, pad_to_multiple_of, sequence_length, widths):
    """`padded_length` on a scalar integer tensor, in graph or eagerly."""
    if widths is not None:
        candidates = tf.constant(widths, longest.dtype)
        fits = candidates >= longest
        width = tf.reduce_min(tf.where(
            fits, candidates, tf.constant(longest.dtype.max, longest.dtype)))
        # No width fits a row longer than `sequence_length`: keep its own.
        width = tf.where(tf.reduce_any(fits), width, longest)
        return tf.where(longest > 0, width, tf.zeros_like(longest))
    rounded = (longest + pad_to_multiple_of - 1) // pad_to_multiple_of * (
        pad_to_multiple_of)
    capped = tf.minimum(rounded, tf.cast(sequence_length, longest.dtype))
    return tf.maximum(capped, longest)
