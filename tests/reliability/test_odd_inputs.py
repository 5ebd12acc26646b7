"""Odd inputs to a task's fit/evaluate/predict: a clear error naming the
problem, or the obvious result; never a raw traceback from inside Keras
or a backend ('Unrecognized data type', 'as_list() is not defined on an
unknown TensorShape', 'None values not supported', UnboundLocalError)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import TINY_CONFIG


@pytest.fixture(scope="module")
def classifier(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=16)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=2,
                             preprocessor=preprocessor, dropout=0.0)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    return model


@pytest.fixture(scope="module")
def tagger(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertTokenClassifier
    from keras_albert import AlbertTokenizer
    from keras_albert.preprocessing import (
        AlbertTokenClassificationPreprocessor,
    )

    return AlbertTokenClassifier(
        AlbertBackbone(**TINY_CONFIG), labels=["O", "B-X", "I-X"],
        preprocessor=AlbertTokenClassificationPreprocessor(
            AlbertTokenizer(proto=spm_path), sequence_length=16))


def _ids(value=7, shape=(2, 6)):
    return {"token_ids": np.full(shape, value, "int32"),
            "segment_ids": np.zeros(shape, "int32"),
            "padding_mask": np.ones(shape, "int32")}


def _dataset(x):
    return tf.data.Dataset.from_tensor_slices(x).batch(2)


BAD = [
    ("rank-1 dict", lambda m: m.predict(
        {k: v[0] for k, v in _ids().items()}, verbose=0),
     r"must have shape \(batch, length\) \(rank 2\); received `token_ids` "
     r"of shape \(6,\)"),
    ("rank-3 dict", lambda m: m.predict(_ids(shape=(2, 2, 6)), verbose=0),
     r"rank 2\); received `token_ids` of shape \(2, 2, 6\)"),
    ("backbone, rank-1 dict", lambda m: m.backbone.predict(
        {k: v[0] for k, v in _ids().items()}, verbose=0), r"\(rank 2\)"),
    ("rows of unequal length", lambda m: m.predict(
        {"token_ids": [[1, 2], [3]], "segment_ids": [[0, 0], [0]],
         "padding_mask": [[1, 1], [1]]}, verbose=0),
     "The rows of `token_ids` have different lengths; pad them"),
    ("dataset of string ids", lambda m: m.predict(
        _dataset({k: v.astype(str) for k, v in _ids().items()}), verbose=0),
     "`token_ids` must hold integers; this dataset holds strings"),
    ("dataset of float ids", lambda m: m.predict(
        _dataset({k: v.astype("float32") for k, v in _ids().items()}),
        verbose=0),
     "`token_ids` must hold integers; this dataset holds floats"),
    ("dataset with an extra key", lambda m: m.predict(
        _dataset(dict(_ids(), mask_positions=np.zeros((2, 1), "int32"))),
        verbose=0),
     r"Unknown: \['mask_positions'\]"),
    ("dataset of rank-3 ids", lambda m: m.predict(
        _dataset(_ids(shape=(2, 2, 6))), verbose=0), r"\(rank 2\)"),
    ("empty rows", lambda m: m.predict(_ids(shape=(2, 0)), verbose=0),
     "Sequence length 0: every row needs at least one token"),
    ("batch_size=0, texts", lambda m: m.predict(["a b"], batch_size=0,
                                                 verbose=0),
     "`batch_size` must be a positive integer or None. Received: 0"),
    ("batch_size=0, ids", lambda m: m.predict(_ids(), batch_size=0,
                                               verbose=0),
     "`batch_size` must be a positive integer"),
    ("batch_size=-1, fit", lambda m: m.fit(["a b"], [0], batch_size=-1,
                                            verbose=0),
     "Received: -1"),
    ("batch_size=2.5, evaluate", lambda m: m.evaluate(
        ["a b"], [0], batch_size=2.5, verbose=0), "Received: 2.5"),
    ("list of lists of strings", lambda m: m.predict(
        [["a", "b"], ["c"]], verbose=0),
     "A batch of texts must be a flat list of strings"),
    ("list of numbers", lambda m: m.predict([1, 2, 3], verbose=0),
     "Got a list of int. Pass the task's natural data"),
    ("list of arrays", lambda m: m.predict(list(_ids().values()),
                                           verbose=0),
     "Got a list of ndarray"),
    ("None among texts", lambda m: m.predict(["a", None], verbose=0),
     "Entry 1 of the batch is None; texts must be strings"),
    ("number among texts", lambda m: m.predict(["a", 3], verbose=0),
     "A batch of texts must hold only strings; found int 3"),
    ("three text batches", lambda m: m.predict((["a"], ["b"], ["c"]),
                                               verbose=0),
     "Got a tuple of 3 batches; a text pair is a tuple of two"),
    ("validation_split of 1", lambda m: m.fit(
        ["a", "b"], [0, 1], validation_split=1.0, verbose=0),
     "`validation_split` must be between 0 and 1"),
    ("validation_split leaving nothing", lambda m: m.fit(
        ["a"], [0], validation_split=0.5, verbose=0),
     "leaves no training or no validation examples"),
    ("fit on a dataset without labels", lambda m: m.fit(
        _dataset(_ids()), verbose=0),
     r"needs labels to train or evaluate: the dataset's batches must be "
     r"`\(x, y\)`"),
    ("tagger batch_size=0", lambda m: m.predict_tags(["a b"],
                                                     batch_size=0),
     "`batch_size` must be >= 1"),
]


@pytest.mark.parametrize("name, run, words", BAD, ids=[b[0] for b in BAD])
def test_odd_inputs_raise_clear_errors(classifier, tagger, name, run,
                                       words):
    model = tagger if name.startswith("tagger") else classifier
    with pytest.raises(ValueError, match=words):
        run(model)


def test_dict_of_lists_is_a_batch(classifier):
    out = classifier.predict({k: v.tolist() for k, v in _ids().items()},
                             verbose=0)
    np.testing.assert_allclose(
        out, classifier.predict(_ids(), verbose=0), atol=1e-6)


def test_empty_tensor_batch_gives_an_empty_result(classifier):
    empty = {k: tf.zeros((0, 6), tf.int32) for k in _ids()}
    assert classifier.predict(empty, verbose=0).shape == (0, 2)


def test_padding_mask_means_nonzero_is_a_token(classifier):
    reference = classifier.predict(_ids(), verbose=0)
    for mask in (np.full((2, 6), 2, "int32"), np.ones((2, 6), "float32"),
                 np.ones((2, 6), bool)):
        np.testing.assert_allclose(
            classifier.predict(dict(_ids(), padding_mask=mask), verbose=0),
            reference, atol=1e-6)


def test_all_padding_rows_stay_finite(classifier):
    out = classifier.predict(
        dict(_ids(), padding_mask=np.zeros((2, 6), "int32")), verbose=0)
    assert np.isfinite(out).all()


def test_validation_split_of_texts(classifier):
    """Keras splits only arrays; texts, pairs and labels are split the same
    way here (the last fraction is held out)."""
    texts = ["a fine film", "a dull plot", "great", "boring"]
    history = classifier.fit(texts, [1, 0, 1, 0], validation_split=0.5,
                             verbose=0)
    assert "val_loss" in history.history
    history = classifier.fit((texts, texts), [1, 0, 1, 0],
                             sample_weight=[1.0, 1.0, 2.0, 2.0],
                             validation_split=0.25, verbose=0)
    assert "val_loss" in history.history


def test_python_generator_batches_are_checked(classifier):
    def batches():
        yield (_ids(), np.array([0, 1]))
        yield (_ids(999), np.array([0, 1]))

    with pytest.raises(ValueError, match="Token id 999 is out of range"):
        classifier.fit(batches(), steps_per_epoch=2, verbose=0)
