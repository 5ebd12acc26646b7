"""Which examples share a batch: batches of similar lengths.

A batch is padded to its longest row, so a batch in input order usually
computes one long text's width for every row. Sorting by length before
batching computes close to the useful tokens only, and with a few padded
widths (`padding.bucket_lengths`) a run compiles a few shapes only.

`LengthBatches` plans the batches of one pass over examples of known
lengths:

- inference (`shuffle=False`): longest first, `batch_size` rows per batch,
  or as many rows as `tokens_per_batch` allows at the batch's width, and
  a batch never mixes padded widths (no row is padded past its own
  width); the plan is fixed, and `restore` puts outputs back in the
  caller's order;
- training (`shuffle=True`): every epoch a new random permutation, sorted
  by padded width inside windows of `window_batches` batches, cut into
  batches, the batches in random order: batches of similar lengths, a
  different composition and order each epoch.

`dataset` turns the plan into a `tf.data.Dataset` of padded batches; each
iteration (each Keras epoch) draws a new plan when shuffling.
"""

import keras
import numpy as np


def check_tokens_per_batch(tokens_per_batch):
    """`tokens_per_batch` as a positive int, or None; else a ValueError."""
    if tokens_per_batch is None:
        return None
    if isinstance(tokens_per_batch, (bool, np.bool_)) or not isinstance(
        tokens_per_batch, (int, np.integer)
    ) or tokens_per_batch < 1:
        raise ValueError(
            "`tokens_per_batch` must be a positive integer (rows times "
            f"padded width per batch) or None. Received: "
            f"{tokens_per_batch!r}."
        )
    return int(tokens_per_batch)


def check_flag(name, value):
    """`value` as a bool, or a ValueError naming `name`."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"`{name}` must be True or False. Received: {value!r}.")
    return bool(value)


class LengthBatches:
    """The batches (arrays of example indices) of one pass over examples.

    Args:
        lengths: 1-D ints, each example's length in tokens.
        batch_size: int >= 1. Examples per batch (ignored with
            `tokens_per_batch`).
        shuffle: bool. Training order: a new plan every epoch.
        by_length: bool. Batch examples of similar lengths together
            (inference: sorted, longest first; training: bucketed
            shuffling). False keeps input order (inference) or shuffles
            plainly (training).
        tokens_per_batch: int or None. Inference only: each batch holds as
            many examples as keep `rows * padded_width <= tokens_per_batch`
            (an example longer than that gets a batch of its own).
        padded_width: callable `longest -> width`, the preprocessor's
            padding rule; None means the longest row itself.
        seed: int or None. Seeds the training order (None draws a seed
            from NumPy's global generator, which
            `keras.utils.set_random_seed` seeds).
        window_batches: int. Training windows sorted by length, in
            batches: larger is less padding, smaller more randomness.
        split_widths: bool. Inference with `by_length`: a batch holds
            examples of one padded width only, so no example is padded
            past its own width (a width's last batch may be partly
            filled). False fills every batch, padding the shorter
            examples of a batch to its longest.

    Example:
    ```python
    batches = LengthBatches([5, 40, 7, 38], batch_size=2)
    batches.epoch()                    # [array([1, 3]), array([2, 0])]
    batches.restore(np.array([40, 38, 7, 5]))  # array([5, 40, 7, 38])
    ```
    """

    def __init__(self, lengths, batch_size=32, shuffle=False, by_length=True,
                 tokens_per_batch=None, padded_width=None, seed=None,
                 window_batches=50, split_widths=True):
        self.lengths = np.asarray(lengths, "int64").reshape(-1)
        batch_size = 32 if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"`batch_size` must be a positive integer. Received: "
                f"{batch_size!r}.")
        self.batch_size = int(batch_size)
        self.shuffle = check_flag("shuffle", shuffle)
        self.by_length = check_flag("by_length", by_length)
        self.tokens_per_batch = check_tokens_per_batch(tokens_per_batch)
        self.split_widths = check_flag("split_widths", split_widths)
        if self.shuffle and self.tokens_per_batch is not None:
            raise ValueError(
                "`tokens_per_batch` sizes inference batches; training "
                "batches have `batch_size` examples.")
        self.padded_width = padded_width or (lambda longest: int(longest))
        self.window_batches = max(int(window_batches), 1)
        if seed is None:
            seed = np.random.randint(2**31 - 1)
        self._rng = np.random.default_rng(seed)
        self._plan = None if self.shuffle else self._inference_plan()

    def __len__(self):
        return self.num_batches

    @property
    def num_batches(self):
        """Batches per pass (the same every epoch)."""
        if self._plan is not None:
            return len(self._plan)
        return -(-len(self.lengths) // self.batch_size)

    def epoch(self):
        """The batches of one pass: a list of int64 index arrays that
        together hold every example once. Fixed for inference; a new
        random plan on every call when shuffling."""
        if self._plan is not None:
            return list(self._plan)
        return self._training_plan()

    def widths(self):
        """The padded width of every batch of `epoch()` (inference)."""
        return [self.padded_width(int(self.lengths[b].max()))
                for b in self.epoch()]

    # -- plans -------------------------------------------------------------
    def _inference_plan(self):
        count = len(self.lengths)
        if self.by_length:
            # Longest first: the largest batch (memory, compile) comes
            # first; equal lengths keep their input order.
            order = np.argsort(-self.lengths, kind="stable")
        else:
            order = np.arange(count)
        split = self.by_length and self.split_widths
        if self.tokens_per_batch is None and not split:
            return [order[i:i + self.batch_size]
                    for i in range(0, count, self.batch_size)]
        batches, current, width = [], [], 0
        for index in order:
            own = self.padded_width(int(self.lengths[index]))
            wider = max(width, own)
            if self.tokens_per_batch is None:
                full = len(current) >= self.batch_size
            else:
                full = (len(current) + 1) * wider > self.tokens_per_batch
            if current and (full or (split and own != width)):
                batches.append(np.asarray(current, "int64"))
                current, wider = [], own
            current.append(index)
            width = wider
        if current:
            batches.append(np.asarray(current, "int64"))
        return batches

    def _training_plan(self):
        count = len(self.lengths)
        order = self._rng.permutation(count)
        if not self.by_length:
            return [order[i:i + self.batch_size]
                    for i in range(0, count, self.batch_size)]
        window = self.batch_size * self.window_batches
        widths = np.asarray([self.padded_width(int(n))
                             for n in self.lengths], "int64")
        batches = []
        for start in range(0, count, window):
            chunk = order[start:start + window]
            # Stable on a random permutation: examples of one padded width
            # come in random order, so batches differ between epochs.
            chunk = chunk[np.argsort(-widths[chunk], kind="stable")]
            batches.extend(chunk[i:i + self.batch_size]
                           for i in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in self._rng.permutation(len(batches))]

    # -- outputs -----------------------------------------------------------
    def restore(self, outputs):
        """Outputs of the batches in plan order (NumPy arrays or a
        structure of them, one row per example) in the caller's order."""
        order = np.concatenate(self.epoch() + [np.zeros([0], "int64")])

        def put_back(values):
            values = np.asarray(values)
            if len(values) != len(order):
                raise ValueError(
                    f"Got {len(values)} output rows for {len(order)} "
                    "examples; cannot restore their order.")
            restored = np.empty_like(values)
            restored[order] = values
            return restored

        return keras.tree.map_structure(put_back, outputs)

    def dataset(self, make_batch, output_signature):
        """A `tf.data.Dataset` of `make_batch(indices)` for every batch of
        `epoch()`, a new plan per iteration when shuffling.

        Args:
            make_batch: callable, index array -> a batch (a structure of
                NumPy arrays matching `output_signature`).
            output_signature: the `tf.TensorSpec` structure of a batch.
        """
        import tensorflow as tf

        def batches():
            for indices in self.epoch():
                yield make_batch(indices)

        ds = tf.data.Dataset.from_generator(
            batches, output_signature=output_signature)
        # Keras sizes epochs (and its progress bar) from the cardinality.
        ds = ds.apply(tf.data.experimental.assert_cardinality(
            self.num_batches))
        return ds.prefetch(tf.data.AUTOTUNE)
