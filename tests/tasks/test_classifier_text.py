"""AlbertClassifier on raw strings: fit, predict, pairs, presets."""

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer

POSITIVE = ["this film was wonderful", "great acting and a great plot",
            "good movies make people happy", "wonderful and great"]
NEGATIVE = ["that film was terrible", "boring plot and bad acting",
            "bad movies make people sad", "terrible and boring"]


@pytest.fixture
def classifier(spm_path, tiny_config):
    tokenizer = AlbertTokenizer(proto=spm_path)
    preprocessor = AlbertPreprocessor(tokenizer, sequence_length=32)
    return AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2,
                            preprocessor=preprocessor, dropout=0.0)


def test_fit_and_predict_on_raw_strings(classifier):
    x = np.array([t for pair in zip(POSITIVE, NEGATIVE) for t in pair])
    y = np.array([1, 0] * 4)
    classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
    # Unshuffled: two fixed batches keep the number of padded shapes (and
    # so of XLA compilations) small.
    history = classifier.fit(x, y, batch_size=4, epochs=15, verbose=0,
                             shuffle=False)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    probs = classifier.predict(list(x), batch_size=3, verbose=0)
    assert probs.shape == (8, 2)
    assert (probs.argmax(-1) == y).mean() == 1.0
    metrics = classifier.evaluate(x, y, batch_size=4, verbose=0,
                                  return_dict=True)
    assert metrics["accuracy"] == 1.0


def test_text_pairs_and_validation_data(classifier):
    a = ["the fox", "the dog", "a fox", "a dog"]
    b = ["jumps", "sleeps", "jumps", "sleeps"]
    y = np.array([1, 0, 1, 0])
    classifier.compile()
    history = classifier.fit((a, b), y, batch_size=2, epochs=1, verbose=0,
                             validation_data=((a, b), y))
    assert "val_loss" in history.history
    assert classifier.predict((a, b), verbose=0).shape == (4, 2)


def test_tf_data_of_strings(classifier):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(
        (POSITIVE + NEGATIVE, [1] * 4 + [0] * 4)).batch(4)
    classifier.compile()
    classifier.fit(ds, epochs=1, verbose=0)
    assert classifier.predict(ds.map(lambda x, y: x),
                              verbose=0).shape == (8, 2)


def test_preset_roundtrip_keeps_tokenizer_and_settings(classifier, tmp_path):
    x = POSITIVE + NEGATIVE
    expected = classifier.predict(x, verbose=0)
    classifier.save_to_preset(str(tmp_path))
    assert (tmp_path / "assets" / "tokenizer" / "spiece.model").exists()
    restored = AlbertClassifier.from_preset(str(tmp_path))
    assert restored.preprocessor.sequence_length == 32
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected,
                               atol=1e-6)
    # A new head on the same backbone + tokenizer.
    fresh = AlbertClassifier.from_preset(str(tmp_path), num_classes=3)
    assert fresh.predict(x, verbose=0).shape == (8, 3)
    shorter = AlbertClassifier.from_preset(str(tmp_path), sequence_length=16)
    assert shorter.preprocessor.sequence_length == 16


def test_keras_file_roundtrip_with_preprocessor(classifier, tmp_path):
    x = POSITIVE + NEGATIVE
    expected = classifier.predict(x, verbose=0)
    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected,
                               atol=1e-6)


def test_text_without_preprocessor_is_a_clear_error(tiny_config):
    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2)
    with pytest.raises(ValueError, match="no preprocessor"):
        model.predict(["some text"])


def test_named_preset_without_tokenizer_builds_with_warning(caplog):
    model = AlbertClassifier.from_preset(
        "base", load_weights=False, num_classes=2,
        backbone_overrides=dict(num_layers=2),
    )
    assert model.preprocessor is None
    assert model.backbone.num_layers == 2
