"""`padded_length`: one batch-width rule for Python and TF packing, by
rounding (`length_buckets=None`) or by a few widths (`length_buckets`)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_albert.preprocessing.padding import bucket_lengths
from keras_albert.preprocessing.padding import bucket_widths
from keras_albert.preprocessing.padding import check_length_buckets
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


def test_auto_buckets_are_a_few_increasing_widths():
    assert bucket_lengths(512) == (16, 24, 32, 48, 64, 96, 128, 192, 256,
                                   384, 512)
    assert bucket_lengths(100) == (16, 24, 32, 48, 64, 96, 100)
    assert bucket_lengths(20) == (16, 20)
    assert bucket_lengths(8) == (8,)
    # Given widths end with sequence_length; wider ones (sequence_length
    # lowered since) are dropped.
    assert bucket_widths((8, 24), 32) == (8, 24, 32)
    assert bucket_widths((8, 24), 16) == (8, 16)
    assert bucket_widths(None, 32) is None


def test_buckets_pick_the_smallest_width_that_fits():
    assert padded_length(13, 8, 512, "auto") == 16
    assert padded_length(17, 8, 512, "auto") == 24
    assert padded_length(300, 8, 512, "auto") == 384
    assert padded_length(40, 8, 512, (32, 128)) == 128
    assert padded_length(200, 8, 512, (32, 128)) == 512
    assert padded_length(0, 8, 512, "auto") == 0
    assert padded_length(20, 8, 14, "auto") == 20  # never cut


def test_tf_tensors_follow_the_bucket_rule():
    @tf.function
    def graph(longest):
        return padded_length(longest, 8, 40, (8, 24))

    for longest in range(0, 45):
        want = padded_length(longest, 8, 40, (8, 24))
        assert want in (0, 8, 24, 40, longest)
        for dtype in (tf.int32, tf.int64):
            got = padded_length(tf.constant(longest, dtype), 8, 40, "auto")
            assert int(got) == padded_length(longest, 8, 40, "auto")
        assert int(graph(tf.constant(longest))) == want, longest


@pytest.mark.parametrize("buckets, problem", [
    ([32, 16], "strictly increasing"), ([0, 8], "positive ints"),
    ([8, 64], "more than sequence_length=32"), ([], "empty"),
    ("fast", "must be"), (True, "must be"), ([8.5], "positive ints"),
])
def test_bad_buckets_are_named(buckets, problem):
    with pytest.raises(ValueError, match=problem):
        check_length_buckets(buckets, 32)
