"""`predict_proba` / `predict_labels` with the classifier's label names,
kept by every preset format; `predict_proba` of multiple choice."""

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG

TEXTS = ["the quick brown fox", "jumps over", "the lazy dog"]
NAMES = ["asyncio", "email", "logging"]


@pytest.fixture
def classifier(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=16)
    return AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=3,
                            preprocessor=preprocessor, label_names=NAMES)


def test_probabilities_are_the_softmax_of_the_logits(classifier):
    logits = classifier.predict(TEXTS, verbose=0)
    probabilities = classifier.predict_proba(TEXTS)
    assert isinstance(probabilities, np.ndarray)
    np.testing.assert_allclose(
        probabilities, keras.ops.convert_to_numpy(
            keras.ops.softmax(logits, axis=-1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    labels = classifier.predict_labels(TEXTS)
    assert labels.tolist() == [NAMES[i] for i in logits.argmax(-1)]


def test_without_names_labels_are_class_ids(classifier):
    from keras_albert import AlbertClassifier

    plain = AlbertClassifier(classifier.backbone, num_classes=3,
                             preprocessor=classifier.preprocessor)
    assert plain.label_names is None
    ids = plain.predict_labels(TEXTS)
    assert ids.dtype.kind == "i" and ids.shape == (3,)


def test_a_softmax_head_returns_its_own_probabilities(classifier):
    from keras_albert import AlbertClassifier

    softmax = AlbertClassifier(classifier.backbone, num_classes=3,
                               preprocessor=classifier.preprocessor,
                               activation="softmax")
    np.testing.assert_allclose(softmax.predict_proba(TEXTS),
                               softmax.predict(TEXTS, verbose=0), rtol=1e-6)


def test_label_names_are_checked(classifier):
    from keras_albert import AlbertClassifier

    backbone = classifier.backbone
    with pytest.raises(ValueError, match="3 distinct names"):
        AlbertClassifier(backbone, num_classes=3, label_names=["a", "b"])
    with pytest.raises(ValueError, match="3 distinct names"):
        AlbertClassifier(backbone, num_classes=3,
                         label_names=["a", "a", "b"])
    with pytest.raises(ValueError, match="not one string"):
        AlbertClassifier(backbone, num_classes=3, label_names="abc")
    with pytest.raises(ValueError, match="regressor"):
        AlbertClassifier(backbone, num_classes=1, label_names=["score"])
    regressor = AlbertClassifier(backbone, num_classes=1,
                                 preprocessor=classifier.preprocessor)
    with pytest.raises(ValueError, match="no class probabilities"):
        regressor.predict_proba(TEXTS)


def test_label_names_survive_every_preset_format(classifier, tmp_path):
    from keras_albert import AlbertClassifier

    ours = str(tmp_path / "ours")
    classifier.save_to_preset(ours)
    restored = AlbertClassifier.from_preset(ours)
    assert restored.label_names == NAMES
    np.testing.assert_allclose(restored.predict_proba(TEXTS),
                               classifier.predict_proba(TEXTS), rtol=1e-5,
                               atol=1e-6)
    hf = str(tmp_path / "hf")
    classifier.save_to_preset(hf, format="hf")
    from_hf = AlbertClassifier.from_preset(hf)
    assert from_hf.label_names == NAMES
    assert from_hf.predict_labels(TEXTS).tolist() == (
        classifier.predict_labels(TEXTS).tolist())
    # Another head size: the source's names do not apply.
    assert AlbertClassifier.from_preset(hf, num_classes=2).label_names is None


def test_hf_placeholder_labels_give_no_names(classifier, tmp_path):
    from keras_albert import AlbertClassifier

    unnamed = AlbertClassifier(classifier.backbone, num_classes=3,
                               preprocessor=classifier.preprocessor)
    hf = str(tmp_path / "hf")
    unnamed.save_to_preset(hf, format="hf")
    assert AlbertClassifier.from_preset(hf).label_names is None


def test_multiple_choice_probabilities(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertMultipleChoice
    from keras_albert import AlbertTokenizer
    from keras_albert.preprocessing import AlbertMultipleChoicePreprocessor

    model = AlbertMultipleChoice(
        AlbertBackbone(**TINY_CONFIG), num_choices=2,
        preprocessor=AlbertMultipleChoicePreprocessor(
            AlbertTokenizer(proto=spm_path), sequence_length=16))
    x = {"article": ["the quick brown fox"], "question": ["what jumps"],
         "options": [["the fox", "the dog"]]}
    probabilities = model.predict_proba(x)
    assert probabilities.shape == (1, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert model.predict_choices(x).tolist() == (
        probabilities.argmax(-1).tolist())
