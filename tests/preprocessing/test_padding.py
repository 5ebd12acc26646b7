"""`padded_length`: one batch-width rule for Python and TF packing."""

import numpy as np
import pytest
import tensorflow as tf

from keras_albert.preprocessing.padding import padded_length


def test_rounds_up_caps_and_never_cuts():
    assert padded_length(13, 8, 512) == 16
    assert padded_length(16, 8, 512) == 16
    assert padded_length(13, 8, 14) == 14  # capped at sequence_length
    assert padded_length(13, 1, 512) == 13  # 1: no rounding
    assert padded_length(0, 8, 512) == 0  # an empty batch stays empty
    # A row longer than sequence_length (packed before it was lowered)
    # is padded to its own length, not cut.
    assert padded_length(20, 8, 14) == 20
    assert isinstance(padded_length(np.int64(13), 8, 512), int)


def test_tf_tensors_follow_the_same_rule():
    cases = [(longest, multiple, limit) for longest in range(0, 40)
             for multiple in (1, 3, 8) for limit in (8, 17, 32)]

    @tf.function
    def graph(longest, multiple, limit):
        return padded_length(longest, multiple, limit)

    for dtype in (tf.int32, tf.int64):
        for longest, multiple, limit in cases:
            want = padded_length(longest, multiple, limit)
            tensor = tf.constant(longest, dtype)
            got = padded_length(tensor, multiple, limit)
            assert got.dtype == dtype
            assert int(got) == want, (longest, multiple, limit)
        got = graph(tf.constant(13, dtype), 8, 14)
        assert int(got) == 14


def test_rejects_non_integers():
    with pytest.raises(TypeError, match="longest"):
        padded_length(13.0, 8, 512)
