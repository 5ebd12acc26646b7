"""Checks that turn bad model inputs into clear errors.

Value checks (token id range, segment id range) need concrete data. They run
when inputs are concrete: numpy arrays, TF eager tensors, torch tensors and
non-traced JAX arrays. Inside a traced function (tf.function, jax.jit) values
are unknown, so `AlbertTask.fit/predict/evaluate` also check numpy inputs
before handing them to Keras. Shape checks run on static shapes, always.
"""

import numpy as np
import keras


def is_concrete(x):
    """True when `x` holds real values that can be read without tracing."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int)):
        return True
    if keras.backend.is_keras_tensor(x):
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return isinstance(x, tf.Tensor) and hasattr(x, "numpy") and (
            tf.executing_eagerly()
        )
    if backend == "jax":
        import jax

        return isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)
    if backend == "torch":
        import torch

        if not isinstance(x, torch.Tensor) or x.device.type == "meta":
            return False
        compiling = getattr(torch.compiler, "is_compiling", lambda: False)
        return not compiling()
    return False


def check_static_shapes(token_ids, segment_ids, padding_mask, max_length):
    """Raises ValueError for mismatched shapes or over-long sequences."""
    shapes = {
        "token_ids": tuple(token_ids.shape),
        "segment_ids": tuple(segment_ids.shape),
        "padding_mask": tuple(padding_mask.shape),
    }
    ranks = {len(s) for s in shapes.values()}
    if ranks != {2}:
        raise ValueError(
            "ALBERT inputs must be rank 2 (batch, sequence). Received shapes "
            f"{shapes}."
        )
    for axis in (0, 1):
        dims = {s[axis] for s in shapes.values() if s[axis] is not None}
        if len(dims) > 1:
            raise ValueError(
                "`token_ids`, `segment_ids` and `padding_mask` must have the "
                f"same shape. Received shapes {shapes}."
            )
    length = shapes["token_ids"][1]
    # Symbolic lengths (jax2tf export) cannot be compared here; the serving
    # graph checks them when it runs.
    if isinstance(length, int) and max_length is not None and (
        length > max_length
    ):
        raise ValueError(
            f"Sequence length {length} is longer than the model's "
            f"`max_sequence_length={max_length}`. Truncate the inputs "
            "(the preprocessor's `sequence_length` does this) or use a model "
            "with more positions."
        )


def _max_and_min(x):
    array = keras.ops.convert_to_numpy(x)
    if array.size == 0:
        return None, None
    return int(array.max()), int(array.min())


def check_id_ranges(token_ids, segment_ids, vocabulary_size, num_segments):
    """Raises ValueError for token or segment ids outside the tables.

    Does nothing for symbolic or traced inputs.
    """
    if not (is_concrete(token_ids) and is_concrete(segment_ids)):
        return
    high, low = _max_and_min(token_ids)
    if high is not None and (high >= vocabulary_size or low < 0):
        bad = high if high >= vocabulary_size else low
        raise ValueError(
            f"Token id {bad} is out of range for a vocabulary of "
            f"{vocabulary_size} tokens (valid ids: 0..{vocabulary_size - 1}). "
            "Was the text tokenized with this model's tokenizer?"
        )
    high, low = _max_and_min(segment_ids)
    if high is not None and (high >= num_segments or low < 0):
        bad = high if high >= num_segments else low
        raise ValueError(
            f"Segment id {bad} is out of range: the model has "
            f"{num_segments} segments (valid ids: 0..{num_segments - 1})."
        )


def check_input_dict(x, vocabulary_size, num_segments):
    """Range-checks a dict of concrete model inputs before fit/predict, where
    values would otherwise only be seen inside a traced function."""
    if isinstance(x, dict) and "token_ids" in x:
        segment_ids = x.get("segment_ids")
        if segment_ids is None:
            segment_ids = np.zeros((1, 1), "int32")
        check_id_ranges(x["token_ids"], segment_ids, vocabulary_size,
                        num_segments)
