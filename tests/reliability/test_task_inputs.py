"""Bad and odd inputs to a task: a clear error naming the problem, or the
obvious result; never a raw traceback from deep inside, never garbage."""

import numpy as np
import pytest

from tests.conftest import TINY_CONFIG


@pytest.fixture(scope="module")
def classifier(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=32)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=3,
                             preprocessor=preprocessor)
    model.compile()
    return model


def _ids(batch=2, length=6):
    return {"token_ids": np.full((batch, length), 7, "int32"),
            "segment_ids": np.zeros((batch, length), "int32"),
            "padding_mask": np.ones((batch, length), "int32")}


def test_empty_batches_give_empty_results(classifier):
    for empty in ([], (), np.array([], dtype=str), ([], [])):
        out = classifier.predict(empty, verbose=0)
        assert out.shape == (0, 3), empty


def test_one_string_is_a_batch_of_one(classifier):
    one = classifier.predict("a fine film", verbose=0)
    many = classifier.predict(["a fine film", "another"], verbose=0)
    assert one.shape == (1, 3)
    np.testing.assert_allclose(one[0], many[0], atol=1e-5)


def test_bytes_and_str_mix(classifier):
    mixed = classifier.predict(["a fine film", b"another"], verbose=0)
    text = classifier.predict(["a fine film", "another"], verbose=0)
    np.testing.assert_allclose(mixed, text, atol=1e-5)


BAD = [
    ("none", lambda: None, "got None"),
    ("unequal pair", lambda: (["a", "b"], ["c"]), "2 and 1"),
    ("extra key", lambda: dict(_ids(), mask_positions=np.zeros((2, 1))),
     r"Unknown: \['mask_positions'\]"),
    ("missing key", lambda: {k: v for k, v in _ids().items()
                             if k != "padding_mask"},
     r"Missing: \['padding_mask'\]"),
    ("float ids", lambda: dict(_ids(), token_ids=np.full((2, 6), 7.5)),
     "must hold integers; received floats"),
    ("string ids", lambda: dict(_ids(), token_ids=np.full((2, 6), "7")),
     "must hold integers; received strings"),
    ("id too large", lambda: dict(_ids(), token_ids=np.full((2, 6), 999)),
     "Token id 999 is out of range"),
    ("negative id", lambda: dict(_ids(), token_ids=np.full((2, 6), -1)),
     "Token id -1 is out of range"),
    ("segment id", lambda: dict(_ids(), segment_ids=np.full((2, 6), 2)),
     "Segment id 2 is out of range"),
    ("mismatched rows", lambda: dict(_ids(), padding_mask=np.ones((3, 6), "int32")),
     "same shape"),
    ("too long", lambda: _ids(length=65), "longer than the model's"),
]


@pytest.mark.parametrize("name, make, words", BAD, ids=[b[0] for b in BAD])
def test_bad_predict_inputs_raise_clear_errors(classifier, name, make,
                                               words):
    with pytest.raises(ValueError, match=words):
        classifier.predict(make(), verbose=0)


def test_labels_must_match_the_texts(classifier):
    with pytest.raises(ValueError, match="2 texts but 3 values of `y`"):
        classifier.fit(["a", "b"], [0, 1, 2], verbose=0)


def test_unequal_pairs_never_reach_native_code(spm_path):
    """Once a crash (SIGSEGV) or garbage ids: now an error in every mode."""
    import tensorflow as tf

    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path))
    for a, b in ((["a b", "c d"], ["e"]), (["a"], ["b", "c", "d"])):
        with pytest.raises(ValueError, match="as many first texts"):
            preprocessor((a, b))

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string)] * 2)
    def pack(a, b):
        return preprocessor.pack((a, b))

    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="as many first texts"):
        pack(tf.constant(["a", "b", "c"]), tf.constant(["d"]))
    assert pack(tf.constant(["a"]), tf.constant(["d"]))["token_ids"].shape[
        0] == 1
