"""Overlapping windows over a sequence too long for the model.

Extractive QA cuts a long context into windows whose starts are
`doc_stride` pieces apart (Google's `run_squad.py`); token classification
cuts a long sentence into windows that share pieces and start on a word's
first piece where possible. Both are `sliding_windows`.
"""

import bisect


def sliding_windows(length, size, stride, start_points=None):
    """`(start, end)` ranges of at most `size` items covering `length` items.

    The first window starts at 0 and the last one ends at `length`. After
    a window starting at `start`, the next starts at `start + min(stride,
    size)`: consecutive windows overlap by `size - stride` items when
    `stride < size` and touch (no gap, no overlap) when `stride >= size`.
    With `start_points` (e.g. the first piece of every word), the next
    start moves back to the last start point after `start` and at or
    before that position, when there is one, so a window seldom begins
    inside a word; it always advances by at least one item.

    Args:
        length: int >= 0. Items to cover.
        size: int >= 1. Items per window.
        stride: int >= 1. The largest step between window starts.
        start_points: optional iterable of ints. Preferred window starts
            (negative values are ignored).

    Returns:
        A list of `(start, end)` pairs; `[(0, length)]` when `length <=
        size`, `[]` when `length` is 0.

    Example:
    ```python
    sliding_windows(10, size=4, stride=3)   # [(0, 4), (3, 7), (6, 10)]
    sliding_windows(10, size=4, stride=3, start_points=[0, 2, 5, 8])
    # [(0, 4), (2, 6), (5, 9), (8, 10)]
    ```
    """
    for name, value, minimum in (("length", length, 0), ("size", size, 1),
                                 ("stride", stride, 1)):
        if int(value) < minimum:
            raise ValueError(
                f"`{name}` must be >= {minimum}. Received: {value}."
            )
    length, size, stride = int(length), int(size), int(stride)
    if length == 0:
        return []
    step = min(stride, size)
    points = None
    if start_points is not None:
        points = sorted(p for p in start_points if p >= 0)
    ranges = []
    start = 0
    while True:
        end = min(start + size, length)
        ranges.append((start, end))
        if end == length:
            return ranges
        latest = start + step
        if points:
            # The last start point in (start, latest], if any.
            i = bisect.bisect_right(points, latest) - 1
            if i >= 0 and points[i] > start:
                latest = points[i]
        start = latest
