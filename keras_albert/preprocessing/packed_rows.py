"""Packed but unpadded examples, held in NumPy, padded a batch at a time.

Raw text is tokenized and packed once (`AlbertPreprocessingLayer.
packed_rows`), before any batching: the lengths decide which examples
share a batch (`length_batching.LengthBatches`), and each batch is then
padded to its own width without tokenizing again.
"""

import numpy as np


class PackedRows:
    """Token and segment ids of packed rows, `rows_per_example` per example.

    An example is one row (`[CLS] a [SEP] b [SEP]`) or, for multiple
    choice, one row per option; its length is its longest row's.

    Args:
        token_ids: 1-D int array, every row's ids one after another.
        segment_ids: 1-D int array, aligned with `token_ids`.
        row_splits: 1-D int array of `rows + 1` offsets into the ids (row
            `r` is `token_ids[row_splits[r]:row_splits[r + 1]]`).
        rows_per_example: int >= 1.

    Example:
    ```python
    rows = PackedRows([2, 9, 3, 2, 3], [0, 0, 0, 0, 0], [0, 3, 5])
    rows.lengths            # array([3, 2])
    rows.pad([1, 0], 4, pad_token_id=0)["token_ids"]
    # [[2, 3, 0, 0], [2, 9, 3, 0]]
    ```
    """

    def __init__(self, token_ids, segment_ids, row_splits,
                 rows_per_example=1):
        self.token_ids = np.asarray(token_ids, "int32")
        self.segment_ids = np.asarray(segment_ids, "int32")
        self.row_splits = np.asarray(row_splits, "int64")
        self.rows_per_example = int(rows_per_example)
        row_lengths = np.diff(self.row_splits)
        if len(row_lengths) % self.rows_per_example:
            raise ValueError(
                f"{len(row_lengths)} rows do not group into examples of "
                f"{self.rows_per_example} rows."
            )
        # An example is as long as its longest row.
        self.lengths = row_lengths.reshape(
            -1, self.rows_per_example).max(axis=1, initial=0)

    def __len__(self):
        return len(self.lengths)

    @classmethod
    def concatenate(cls, parts):
        """One `PackedRows` of the examples of `parts`, in order."""
        parts = list(parts)
        splits = [np.zeros([1], "int64")]
        offset = 0
        for part in parts:
            splits.append(part.row_splits[1:] + offset)
            offset += int(part.row_splits[-1])
        return cls(
            np.concatenate([p.token_ids for p in parts] + [
                np.zeros([0], "int32")]),
            np.concatenate([p.segment_ids for p in parts] + [
                np.zeros([0], "int32")]),
            np.concatenate(splits),
            parts[0].rows_per_example if parts else 1,
        )

    def pad(self, indices, width, pad_token_id):
        """The examples at `indices` as the model-input dict.

        Returns `{"token_ids", "segment_ids", "padding_mask"}`, int32
        arrays of shape `(len(indices), width)`, or `(len(indices),
        rows_per_example, width)` with several rows per example; padding
        is `pad_token_id` with `padding_mask` 0.
        """
        group = self.rows_per_example
        rows = (np.asarray(indices, "int64")[:, None] * group
                + np.arange(group)).reshape(-1)
        token_ids = np.full((len(rows), width), pad_token_id, "int32")
        segment_ids = np.zeros((len(rows), width), "int32")
        padding_mask = np.zeros((len(rows), width), "int32")
        for out, row in enumerate(rows):
            start, end = self.row_splits[row], self.row_splits[row + 1]
            length = end - start
            token_ids[out, :length] = self.token_ids[start:end]
            segment_ids[out, :length] = self.segment_ids[start:end]
            padding_mask[out, :length] = 1
        outputs = {"token_ids": token_ids, "segment_ids": segment_ids,
                   "padding_mask": padding_mask}
        if group > 1:
            outputs = {k: v.reshape(-1, group, width)
                       for k, v in outputs.items()}
        return outputs
