"""The padded width of a batch: one rule for every preprocessor.

A batch is padded to its longest row rounded up to a multiple of
`pad_to_multiple_of` (fewer distinct shapes for a compiled model to trace),
but not past `sequence_length`, the longest row a preprocessor packs.
`padded_length` computes it on Python/NumPy ints (batches packed in
Python) and on TensorFlow tensors (batches packed in `tf.data` or in a
preprocessing layer's graph), so both paths give the same widths.
"""

import numpy as np

try:
    import tensorflow as tf
except ImportError:
    tf = None


def padded_length(longest, pad_to_multiple_of, sequence_length):
    """The width a batch whose longest row has `longest` tokens is padded to.

    `longest` rounded up to a multiple of `pad_to_multiple_of`, capped at
    `sequence_length`; never below `longest` itself, so rows packed under a
    larger `sequence_length` (lowered since) are padded, not cut.

    Args:
        longest: int, or an integer scalar TF tensor. The longest row.
        pad_to_multiple_of: int >= 1 (see `check_pad_to_multiple_of`).
        sequence_length: int. The cap.

    Returns:
        An int for an int `longest`; a scalar TF tensor of `longest`'s
        dtype for a tensor.

    Example:
    ```python
    padded_length(13, 8, 512)   # 16
    padded_length(13, 8, 14)    # 14
    padded_length(13, 1, 512)   # 13
    ```
    """
    rounded = (longest + pad_to_multiple_of - 1) // pad_to_multiple_of * (
        pad_to_multiple_of)
    if tf is not None and tf.is_tensor(longest):
        capped = tf.minimum(rounded, tf.cast(sequence_length, longest.dtype))
        return tf.maximum(capped, longest)
    if not isinstance(longest, (int, np.integer)):
        raise TypeError(
            "`longest` must be an int or a TF integer tensor. Received: "
            f"{type(longest).__name__}."
        )
    return int(max(min(rounded, sequence_length), longest))
