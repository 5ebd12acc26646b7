"""Checks that turn bad model inputs into clear errors.

Value checks (token id range, segment id range) need concrete data. They run
when inputs are concrete: numpy arrays, TF eager tensors, torch tensors and
non-traced JAX arrays. Inside a traced function (tf.function, jax.jit) values
are unknown, so `AlbertTask.fit/predict/evaluate` also check numpy inputs
before handing them to Keras. Shape checks run on static shapes, always.
"""

import numpy as np
import keras


# The messages, shared with the in-graph checks (`graph_checks`), which
# format them with the offending value in place of "{}".
def token_id_message(bad, vocabulary_size):
    return (
        f"Token id {bad} is out of range for a vocabulary of "
        f"{vocabulary_size} tokens (valid ids: 0..{vocabulary_size - 1}). "
        "Was the text tokenized with this model's tokenizer?"
    )


def segment_id_message(bad, num_segments):
    return (
        f"Segment id {bad} is out of range: the model has {num_segments} "
        f"segments (valid ids: 0..{num_segments - 1})."
    )


def length_message(length, max_length):
    return (
        f"Sequence length {length} is longer than the model's "
        f"`max_sequence_length={max_length}`. Truncate the inputs (the "
        "preprocessor's `sequence_length` does this) or use a model with "
        "more positions."
    )


def empty_sequence_message():
    return (
        "Sequence length 0: every row needs at least one token (the "
        "preprocessor adds `[CLS]` and `[SEP]`)."
    )


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
    if length == 0 and shapes["token_ids"][0] != 0:
        raise ValueError(empty_sequence_message())
    # Symbolic lengths (jax2tf export) cannot be compared here; the serving
    # graph checks them when it runs.
    if isinstance(length, int) and max_length is not None and (
        length > max_length
    ):
        raise ValueError(length_message(length, max_length))


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
        raise ValueError(token_id_message(bad, vocabulary_size))
    high, low = _max_and_min(segment_ids)
    if high is not None and (high >= num_segments or low < 0):
        bad = high if high >= num_segments else low
        raise ValueError(segment_id_message(bad, num_segments))


TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")


def _array_dtype(value):
    """numpy dtype kind ('i', 'u', 'f', 'b', 'U', 'S', 'O') of a concrete
    value, or None for symbolic/traced values."""
    if not is_concrete(value):
        dtype = getattr(value, "dtype", None)
        name = getattr(dtype, "name", str(dtype))
        return "U" if name == "string" else None
    if isinstance(value, (list, tuple)) and not value:
        return None
    try:
        return np.asarray(keras.ops.convert_to_numpy(value)).dtype.kind
    except Exception:  # noqa: BLE001 - e.g. ragged lists: numpy says so below
        return np.asarray(value, dtype=object).dtype.kind


def check_input_dict(x, vocabulary_size, num_segments, expected=None,
                     max_sequence_length=None):
    """Checks a dict of concrete model inputs before fit/predict, where
    values would otherwise only be seen inside a traced function: the keys
    (`expected`, default the three token inputs; an unknown or missing key
    is an error, never remapped by position), integer dtypes, equal shapes
    of the token inputs, the length (at most `max_sequence_length`) and the
    id ranges."""
    if not isinstance(x, dict):
        return
    expected = tuple(expected or TOKEN_INPUTS)
    unknown = sorted(set(x) - set(expected))
    missing = [k for k in expected if k not in x]
    if unknown or missing:
        raise ValueError(
            f"The model takes the inputs {list(expected)}. "
            + (f"Unknown: {unknown}. " if unknown else "")
            + (f"Missing: {missing}." if missing else "")
        )
    for key in ("token_ids", "segment_ids"):
        kind = _array_dtype(x[key]) if key in x else None
        if kind is not None and kind not in "iub":
            what = {"f": "floats", "U": "strings", "S": "strings",
                    "O": "objects", "c": "complex numbers"}.get(kind, kind)
            raise ValueError(
                f"`{key}` must hold integers; received {what}. Token ids "
                "come from the model's tokenizer (or preprocessor)."
            )
    shapes = {k: tuple(np.shape(x[k])) for k in TOKEN_INPUTS
              if k in x and is_concrete(x[k])}
    if len(set(shapes.values())) > 1:
        raise ValueError(
            "`token_ids`, `segment_ids` and `padding_mask` must have the "
            f"same shape. Received shapes {shapes}."
        )
    shape = next(iter(shapes.values()), ())
    length = shape[-1:]
    if length == (0,) and 0 not in shape[:-1]:
        raise ValueError(empty_sequence_message())
    if max_sequence_length is not None and length and (
        length[0] > max_sequence_length
    ):
        raise ValueError(length_message(length[0], max_sequence_length))
    if "token_ids" in x:
        segment_ids = x.get("segment_ids")
        if segment_ids is None:
            segment_ids = np.zeros((1, 1), "int32")
        check_id_ranges(x["token_ids"], segment_ids, vocabulary_size,
                        num_segments)
