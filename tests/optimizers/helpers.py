"""A tiny `AlbertClassifier` and a few training steps, for the optimizer
tests."""

import keras
import numpy as np

from tests.conftest import TINY_CONFIG


def tiny_classifier(**overrides):
    """An `AlbertClassifier` (3 classes, no dropout) on the tests' tiny
    backbone, with `overrides` of its config."""
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    backbone = AlbertBackbone(**dict(TINY_CONFIG, **overrides))
    return AlbertClassifier(backbone, num_classes=3, dropout=0.0)


def tiny_batch():
    """Four token-id examples and their labels (3 classes)."""
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(0, 100, (4, 8)).astype("int32"),
        "segment_ids": np.zeros((4, 8), "int32"),
        "padding_mask": np.ones((4, 8), "int32"),
    }
    y = np.array([0, 1, 2, 1])
    return x, y


def train_steps(model, optimizer, steps=3):
    """Compiles `model` with `optimizer` and trains `steps` batches of
    `tiny_batch()`; returns `{variable.path: value}` of the trainable
    variables after them."""
    x, y = tiny_batch()
    model.compile(optimizer=optimizer, loss=keras.losses.
                  SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(steps):
        model.train_on_batch(x, y)
    return {v.path: keras.ops.convert_to_numpy(v)
            for v in model.trainable_variables}
