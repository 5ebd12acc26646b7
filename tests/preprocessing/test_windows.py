"""`sliding_windows`: the one context-windowing rule of QA and token
classification."""

import itertools

import numpy as np
import pytest

from keras_albert.preprocessing.windows import sliding_windows


def _doc_stride_windows(length, size, stride):
    """The QA preprocessor's windows before they were shared (Google's
    `run_squad.py` convention), kept as the oracle."""
    start = 0
    while True:
        end = min(start + size, length)
        yield start, end
        if end >= length:
            return
        start += min(size, stride)


def _word_windows(length, word_starts, capacity, overlap):
    """The token classifier's windows before they were shared."""
    if length <= capacity:
        return [(0, length)] if length else []
    starts = sorted(s for s in word_starts if s >= 0)
    ranges = []
    start = 0
    while True:
        end = min(start + capacity, length)
        ranges.append((start, end))
        if end == length:
            return ranges
        latest = max(end - overlap, start + 1)
        candidates = [s for s in starts if start < s <= latest]
        start = candidates[-1] if candidates else latest


def _check_cover(ranges, length, size):
    """Windows cover `0..length` in order, none larger than `size`."""
    assert ranges[0][0] == 0 and ranges[-1][1] == length
    for (s0, e0), (s1, e1) in zip(ranges, ranges[1:]):
        assert s0 < s1 <= e0  # advances, leaves no gap
    assert all(0 < e - s <= size for s, e in ranges)


def test_short_sequences_are_one_window():
    assert sliding_windows(0, size=4, stride=2) == []
    assert sliding_windows(1, size=4, stride=2) == [(0, 1)]
    assert sliding_windows(4, size=4, stride=2) == [(0, 4)]
    assert sliding_windows(4, size=4, stride=9,
                           start_points=[0, 1, 3]) == [(0, 4)]


def test_exact_multiples_end_on_the_last_item():
    assert sliding_windows(8, size=4, stride=4) == [(0, 4), (4, 8)]
    assert sliding_windows(12, size=4, stride=2) == [
        (0, 4), (2, 6), (4, 8), (6, 10), (8, 12)]
    # No window past the end, even when the stride would allow one more.
    assert sliding_windows(10, size=4, stride=3) == [(0, 4), (3, 7),
                                                     (6, 10)]


def test_a_stride_of_a_window_or_more_tiles_without_gaps():
    for stride in (4, 5, 100):
        assert sliding_windows(10, size=4, stride=stride) == [
            (0, 4), (4, 8), (8, 10)]


def test_start_points_pull_starts_back_to_word_starts():
    assert sliding_windows(10, size=4, stride=3,
                           start_points=[0, 2, 5, 8]) == [
        (0, 4), (2, 6), (5, 9), (8, 10)]
    # No start point in (start, start + stride]: the plain step is taken;
    # negative (missing) points are ignored; unsorted points are fine.
    assert sliding_windows(10, size=4, stride=3,
                           start_points=[-1, 9, 0]) == [
        (0, 4), (3, 7), (6, 10)]
    # A start point at the current start does not stall the windows.
    assert sliding_windows(6, size=2, stride=1, start_points=[0]) == [
        (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]


def test_bad_arguments_are_rejected():
    for name, kwargs in (("length", {"length": -1, "size": 2, "stride": 1}),
                         ("size", {"length": 5, "size": 0, "stride": 1}),
                         ("stride", {"length": 5, "size": 2, "stride": 0})):
        with pytest.raises(ValueError, match=f"`{name}`"):
            sliding_windows(**kwargs)


def test_it_is_the_rule_each_caller_used():
    rng = np.random.default_rng(0)
    for length, size, stride in itertools.product(range(0, 30), range(1, 9),
                                                  range(1, 11)):
        ranges = sliding_windows(length, size, stride)
        if length:
            assert ranges == list(_doc_stride_windows(length, size, stride))
            _check_cover(ranges, length, size)
        overlap = size - stride
        if 0 <= overlap < size:
            points = sorted(rng.choice(max(length, 1), rng.integers(
                0, max(length, 1) + 1), replace=False).tolist())
            points = [-1] + points  # a word without pieces
            ranges = sliding_windows(length, size, max(size - overlap, 1),
                                     start_points=points)
            assert ranges == _word_windows(length, points, size, overlap)
            if length:
                _check_cover(ranges, length, size)
