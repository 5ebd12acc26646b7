"""Tiny models and synthetic batches for the trainer tests.

Batches follow the pretraining contract of `make_pretraining_dataset`, so
the trainer is tested independently of the data pipeline.
"""

import numpy as np

VOCAB = 160
SEQ_LEN = 16
PREDICTIONS = 4

TINY_BACKBONE = dict(
    vocabulary_size=VOCAB,
    num_layers=2,
    num_heads=2,
    embedding_dim=16,
    hidden_dim=32,
    intermediate_dim=64,
    max_sequence_length=32,
)


def synthetic_arrays(num_examples, seq_len=SEQ_LEN, predictions=PREDICTIONS,
                     vocab=VOCAB, seed=0):
    """`(x, y, sample_weight)` numpy arrays for `num_examples` examples."""
    rng = np.random.default_rng(seed)
    n = num_examples
    original = rng.integers(5, vocab, (n, seq_len)).astype("int32")
    original[:, 0] = 2  # [CLS]
    lengths = rng.integers(seq_len // 2, seq_len + 1, n)
    padding_mask = (np.arange(seq_len)[None] < lengths[:, None]).astype(
        "int32")
    original = original * padding_mask
    segment_ids = ((np.arange(seq_len)[None] >= (lengths // 2)[:, None])
                   * padding_mask).astype("int32")
    positions = np.stack([
        np.sort(rng.choice(np.arange(1, lengths[i]), predictions,
                           replace=False)) for i in range(n)
    ]).astype("int32")
    weights = np.ones((n, predictions), "float32")
    weights[:, -1] = rng.integers(0, 2, n)  # some padded prediction slots
    token_ids = original.copy()
    np.put_along_axis(token_ids, positions, 4, axis=1)  # [MASK]
    targets = np.take_along_axis(original, positions, axis=1)
    x = {"token_ids": token_ids, "segment_ids": segment_ids,
         "padding_mask": padding_mask, "mask_positions": positions}
    y = {"mlm": targets.astype("int32"),
         "sop": rng.integers(0, 2, n).astype("int32")}
    sample_weight = {"mlm": weights, "sop": np.ones((n,), "float32")}
    return x, y, sample_weight


def synthetic_dataset(num_batches, batch_size, seed=0, **kwargs):
    """A finite `tf.data.Dataset` of contract triples (deterministic)."""
    import tensorflow as tf

    arrays = synthetic_arrays(num_batches * batch_size, seed=seed, **kwargs)
    return tf.data.Dataset.from_tensor_slices(arrays).batch(
        batch_size, drop_remainder=True)
