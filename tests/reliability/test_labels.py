"""Labels a model cannot train on: a clear error before any step, on every
backend (JAX once trained silently on class 5 of 2, and NaN regression
targets turned every weight into NaN). Arrays, lists and raw-text labels
are checked in Python (`ValueError`); `tf.data` labels in the pipeline
(`InvalidArgumentError`, same message)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import TINY_CONFIG

InvalidArgument = tf.errors.InvalidArgumentError


def _ids(batch=2, length=6, choices=None):
    shape = (batch, length) if choices is None else (batch, choices, length)
    return {"token_ids": np.full(shape, 7, "int32"),
            "segment_ids": np.zeros(shape, "int32"),
            "padding_mask": np.ones(shape, "int32")}


def _batches(x, y, weights=None):
    data = (x, y) if weights is None else (x, y, weights)
    return tf.data.Dataset.from_tensor_slices(data).batch(2)


@pytest.fixture(scope="module")
def tasks(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertMultipleChoice
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenClassifier
    from keras_albert import AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=16)
    built = {
        "classifier": AlbertClassifier(
            AlbertBackbone(**TINY_CONFIG), num_classes=2,
            preprocessor=preprocessor),
        "regressor": AlbertClassifier(
            AlbertBackbone(**TINY_CONFIG), num_classes=1,
            preprocessor=preprocessor),
        "choices": AlbertMultipleChoice(AlbertBackbone(**TINY_CONFIG),
                                        num_choices=2),
        "tagger": AlbertTokenClassifier(AlbertBackbone(**TINY_CONFIG),
                                        labels=["O", "B-X", "I-X"]),
    }
    for model in built.values():
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    return built


TEXTS = ["a fine film", "a dull plot"]
OUT_OF_RANGE = (r"Label {} is out of range for {} classes "
                r"\(valid labels: 0\.\.{}\)")

# (name, task, run(model), error type, words)
BAD = [
    ("class 5 of 2", "classifier",
     lambda m: m.fit(_ids(), np.array([0, 5]), verbose=0),
     ValueError, OUT_OF_RANGE.format(5, 2, 1)),
    ("class -1", "classifier",
     lambda m: m.fit(_ids(), np.array([0, -1]), verbose=0),
     ValueError, OUT_OF_RANGE.format(-1, 2, 1)),
    ("fractional class", "classifier",
     lambda m: m.fit(_ids(), np.array([0.0, 0.5]), verbose=0),
     ValueError, "Label 0.5 is not a class id"),
    ("NaN class", "classifier",
     lambda m: m.fit(_ids(), np.array([0.0, np.nan]), verbose=0),
     ValueError, "Label nan is not a finite number"),
    ("label names", "classifier",
     lambda m: m.fit(_ids(), np.array(["pos", "neg"]), verbose=0),
     ValueError, "received strings such as 'pos'. Map label names"),
    ("texts, class 5", "classifier",
     lambda m: m.fit(TEXTS, [0, 5], verbose=0),
     ValueError, OUT_OF_RANGE.format(5, 2, 1)),
    ("texts, label names", "classifier",
     lambda m: m.fit(TEXTS, ["pos", "neg"], verbose=0),
     ValueError, "Map label names to class ids"),
    ("pairs, class -1", "classifier",
     lambda m: m.fit((TEXTS, TEXTS), [0, -1], verbose=0),
     ValueError, OUT_OF_RANGE.format(-1, 2, 1)),
    ("evaluate, class 5", "classifier",
     lambda m: m.evaluate(_ids(), np.array([5, 0]), verbose=0),
     ValueError, OUT_OF_RANGE.format(5, 2, 1)),
    ("validation labels", "classifier",
     lambda m: m.fit(_ids(), np.array([0, 1]),
                     validation_data=(_ids(), np.array([0, 7])), verbose=0),
     ValueError, OUT_OF_RANGE.format(7, 2, 1)),
    ("dataset, class 5", "classifier",
     lambda m: m.fit(_batches(_ids(), np.array([0, 5])), verbose=0),
     InvalidArgument, OUT_OF_RANGE.format(5, 2, 1)),
    ("dataset, class -1", "classifier",
     lambda m: m.evaluate(_batches(_ids(), np.array([-1, 0])), verbose=0),
     InvalidArgument, OUT_OF_RANGE.format(-1, 2, 1)),
    ("dataset, fractional class", "classifier",
     lambda m: m.fit(_batches(_ids(), np.array([0.0, 1.5])), verbose=0),
     InvalidArgument, "Label 1.5 is not a class id"),
    ("dataset, label names", "classifier",
     lambda m: m.fit(_batches(_ids(), np.array(["pos", "neg"])), verbose=0),
     ValueError, "Map label names to class ids"),
    ("dataset, NaN weight", "classifier",
     lambda m: m.fit(_batches(_ids(), np.array([0, 1]),
                              np.array([1.0, np.nan])), verbose=0),
     InvalidArgument, "`sample_weight` nan is not a finite number"),
    ("NaN sample weight", "classifier",
     lambda m: m.fit(TEXTS, [0, 1], sample_weight=[1.0, np.nan], verbose=0),
     ValueError, "`sample_weight` nan is not a finite number"),
    ("regression NaN", "regressor",
     lambda m: m.fit(_ids(), np.array([0.5, np.nan]), verbose=0),
     ValueError, "Target nan is not a finite number; training on it would "
                 "turn the weights into NaN"),
    ("regression inf, texts", "regressor",
     lambda m: m.fit(TEXTS, [np.inf, 0.5], verbose=0),
     ValueError, "Target inf is not a finite number"),
    ("regression NaN, dataset", "regressor",
     lambda m: m.fit(_batches(_ids(), np.array([0.5, np.nan], "float32")),
                     verbose=0),
     InvalidArgument, "Target nan is not a finite number"),
    ("option 3 of 2", "choices",
     lambda m: m.fit(_ids(choices=2), np.array([0, 3]), verbose=0),
     ValueError, OUT_OF_RANGE.format(3, 2, 1)),
    ("option 3 of 2, dataset", "choices",
     lambda m: m.fit(_batches(_ids(choices=2), np.array([0, 3])), verbose=0),
     InvalidArgument, OUT_OF_RANGE.format(3, 2, 1)),
    ("tag 7 of 3", "tagger",
     lambda m: m.fit(_ids(), np.full((2, 6), 7), verbose=0),
     ValueError, OUT_OF_RANGE.format(7, 3, 2)),
    ("tag -1", "tagger",
     lambda m: m.fit(_ids(), np.full((2, 6), -1), verbose=0),
     ValueError, OUT_OF_RANGE.format(-1, 3, 2)),
    ("tag 7 of 3, dataset", "tagger",
     lambda m: m.fit(_batches(_ids(), np.full((2, 6), 7)), verbose=0),
     InvalidArgument, OUT_OF_RANGE.format(7, 3, 2)),
    ("labels missing", "classifier",
     lambda m: m.fit(_ids(), verbose=0),
     ValueError, "needs labels `y` to train or evaluate on token inputs"),
    ("evaluate without labels", "classifier",
     lambda m: m.evaluate(_ids(), verbose=0),
     ValueError, "needs labels `y`"),
    ("more labels than examples", "classifier",
     lambda m: m.fit(_ids(), np.array([0, 1, 1]), verbose=0),
     ValueError, "Got 2 examples in `x` but 3 labels in `y`"),
    ("fewer weights than examples", "classifier",
     lambda m: m.fit(_ids(), np.array([0, 1]), sample_weight=np.ones(3),
                     verbose=0),
     ValueError, "Got 2 examples in `x` but 3 values in `sample_weight`"),
]


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


@pytest.mark.parametrize("name, task, run, error, words", BAD,
                         ids=[b[0] for b in BAD])
def test_bad_labels_stop_training_before_it_starts(tasks, name, task, run,
                                                   error, words):
    model = tasks[task]
    before = _weights(model)
    with pytest.raises(error, match=words):
        run(model)
    for old, new in zip(before, _weights(model)):
        np.testing.assert_array_equal(old, new)


GOOD = [
    ("float class ids", "classifier",
     lambda m: m.fit(_ids(), np.array([0.0, 1.0]), verbose=0)),
    ("finite regression targets", "regressor",
     lambda m: m.fit(_ids(), np.array([0.5, -2.0]), verbose=0)),
    ("tags with a label mask", "tagger",
     lambda m: m.fit(_ids(), np.full((2, 6), 2),
                     sample_weight=np.ones((2, 6)), verbose=0)),
    ("dataset of good labels", "classifier",
     lambda m: m.fit(_batches(_ids(), np.array([1, 0])), verbose=0)),
]


@pytest.mark.parametrize("name, task, run", GOOD, ids=[g[0] for g in GOOD])
def test_good_labels_train(tasks, name, task, run):
    history = run(tasks[task])
    assert np.isfinite(history.history["loss"]).all()


def test_one_hot_labels_with_a_categorical_loss(tiny_config):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2)
    model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(
        from_logits=True))
    history = model.fit(_ids(), np.eye(2), verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    with pytest.raises(ValueError, match="A label score nan is not a finite"):
        model.fit(_ids(), np.array([[1.0, 0.0], [np.nan, 1.0]]), verbose=0)
