"""Keras int8 quantization (`model.quantize("int8")`) of every task: which
layers it converts, shared blocks once, outputs close to float, config,
`.keras` and preset round trips, SavedModel export, and agreement of
predicted labels with the float model on a trained classifier."""

import warnings

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertMultipleChoice
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertQuestionAnswerer
from keras_albert import AlbertTokenClassifier
from keras_albert import AlbertTokenizer
from keras_albert.models.quantization import QUANTIZATION_KEY
from keras_albert.models.quantization import quantized_layers
from keras_albert.utils import compat
from tests.conftest import TINY_CONFIG
from tests.tasks.test_task_contracts import MASKED
from tests.tasks.test_task_contracts import TOKENS

BACKEND = keras.backend.backend()
TF_ONLY = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="exports, XLA and fit cost seconds each: TensorFlow only (CI "
    "budget)",
)
# Keras' `Layer.__delattr__` runs `gc.collect()` for every weight that
# `quantize` deletes: 0.46 s a Dense measured on torch (the largest heap),
# so each quantized load costs seconds there; the config round trip below
# covers restoring on torch.
NOT_TORCH = pytest.mark.skipif(
    BACKEND == "torch",
    reason="quantizing costs a gc.collect() per Dense on torch (CI budget)",
)

CHOICES = {key: np.stack([value, value[::-1]], axis=1)
           for key, value in TOKENS.items()}
# task -> (class, head arguments, inputs). The classifier runs on every
# backend; the other tasks add nothing backend-specific, so TensorFlow only.
TASKS = {
    "classifier": (AlbertClassifier, {"num_classes": 3}, TOKENS),
    "token_classifier": (AlbertTokenClassifier,
                         {"labels": ["O", "B-X", "I-X"]}, TOKENS),
    "question_answerer": (AlbertQuestionAnswerer, {}, TOKENS),
    "multiple_choice": (AlbertMultipleChoice, {"num_choices": 2}, CHOICES),
    "masked_lm": (AlbertMaskedLM, {}, MASKED),
}


def _numpy(outputs):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def _dense_layers(model):
    return [layer for layer in compat.all_layers(model)
            if isinstance(layer, keras.layers.Dense)]


@pytest.mark.parametrize("name", list(TASKS))
def test_quantize_converts_every_dense_and_round_trips_config(name):
    if BACKEND != "tensorflow" and name != "classifier":
        pytest.skip("other backends run the classifier only (CI budget)")
    cls, kwargs, x = TASKS[name]
    model = cls(AlbertBackbone(**TINY_CONFIG), **kwargs)
    float_outputs = _numpy(model(x))
    with warnings.catch_warnings():
        # Keras warns once for every layer it cannot quantize; ours only
        # hands it the ones it can.
        warnings.filterwarnings("error", message=".*quantize.*")
        model.quantize("int8")
    dense = _dense_layers(model)
    assert dense and all(d.quantization_mode == "int8" for d in dense)
    assert sorted(quantized_layers(model)) == sorted(d.path for d in dense)
    int8_outputs = _numpy(model(x))
    for got, want in zip(keras.tree.flatten(int8_outputs),
                         keras.tree.flatten(float_outputs)):
        scale = np.abs(want).max()
        assert np.abs(got - want).max() <= 0.05 * scale + 1e-3
        assert not np.array_equal(got, want)  # the int8 path really ran

    config = model.get_config()
    assert set(config[QUANTIZATION_KEY]) == {d.path for d in dense}
    if name != "classifier":
        return  # rebuilding is the same code for every task (CI budget)
    rebuilt = cls.from_config(config)
    assert quantized_layers(rebuilt) == quantized_layers(model)
    rebuilt.set_weights(model.get_weights())
    for got, want in zip(keras.tree.flatten(_numpy(rebuilt(x))),
                         keras.tree.flatten(int8_outputs)):
        np.testing.assert_array_equal(got, want)


@TF_ONLY
def test_shared_blocks_are_quantized_once():
    # One attention shared by 3 layers, a feed-forward per layer (full
    # sharing of one block by 2 layers runs in every test above).
    backbone = AlbertBackbone(**dict(TINY_CONFIG, num_layers=3),
                              sharing="attention")
    dense = _dense_layers(backbone)
    float_weights = len(backbone.weights)
    backbone.quantize("int8")  # visiting a shared Dense twice would raise
    int8_kernels = [w for w in backbone.weights if w.dtype == "int8"]
    # One int8 kernel (and one scale) per distinct Dense, shared or not.
    assert len(int8_kernels) == len(dense)
    assert len(backbone.weights) == float_weights + len(dense)
    # Projection, 4 shared attention Dense, 3 x 2 feed-forward, pooler.
    assert len(dense) == 1 + 4 + 3 * 2 + 1


@NOT_TORCH
def test_quantized_task_saves_and_loads(tmp_path):
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=2)
    model.quantize("int8")
    # Direct calls: `predict` would compile (XLA on TensorFlow) each model.
    want = _numpy(model(TOKENS))

    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert quantized_layers(loaded) == quantized_layers(model)
    np.testing.assert_allclose(_numpy(loaded(TOKENS)), want, atol=1e-6)

    model.save_to_preset(tmp_path / "preset")
    restored = AlbertClassifier.from_preset(tmp_path / "preset")
    assert quantized_layers(restored) == quantized_layers(model)
    np.testing.assert_allclose(_numpy(restored(TOKENS)), want, atol=1e-6)
    backbone = AlbertBackbone.from_preset(tmp_path / "preset")
    assert quantized_layers(backbone) == quantized_layers(model.backbone)

    with pytest.raises(ValueError, match="quantized"):
        model.save_to_preset(tmp_path / "hf", format="hf")


def test_saved_quantization_naming_unknown_layers_is_refused():
    config = AlbertBackbone(**TINY_CONFIG).get_config()
    config[QUANTIZATION_KEY] = {"encoder/no_such_layer": "int8_from_float32"}
    with pytest.raises(ValueError, match="no_such_layer"):
        AlbertBackbone.from_config(config)
    config[QUANTIZATION_KEY] = ["pooler"]
    with pytest.raises(ValueError, match="layer paths"):
        AlbertBackbone.from_config(config)


@TF_ONLY
def test_quantized_task_exports_saved_model(tmp_path):
    import tensorflow as tf

    from keras_albert.export import export_saved_model
    from keras_albert.export.serving_model import serving_model

    model = AlbertQuestionAnswerer(AlbertBackbone(**TINY_CONFIG))
    model.compile(jit_compile=False)  # an explicit choice is kept
    model.quantize("int8")
    assert model.jit_compile is False
    export_saved_model(model, tmp_path / "qa", max_answer_length=4)
    loaded = tf.saved_model.load(str(tmp_path / "qa"))
    got = loaded.signatures["serving_default"](
        **{k: tf.constant(v) for k, v in TOKENS.items()})
    want = _numpy(serving_model(model, max_answer_length=4)(TOKENS))
    for key, value in want.items():
        np.testing.assert_allclose(got[key].numpy(), value, atol=1e-5,
                                   err_msg=key)


def _sentiment_texts(rng, count):
    """Generated reviews: the label is which of two word lists the
    sentence draws its opinion words from."""
    good = ["good", "great", "wonderful", "happy"]
    bad = ["bad", "terrible", "boring", "sad"]
    filler = ["the", "film", "was", "and", "plot", "acting", "movies"]
    texts, labels = [], []
    for _ in range(count):
        label = int(rng.integers(2))
        words = list(rng.choice(filler, size=int(rng.integers(2, 6))))
        words += list(rng.choice(good if label else bad, size=2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


@TF_ONLY
def test_int8_labels_agree_with_float_on_a_trained_classifier(spm_path):
    rng = np.random.default_rng(0)
    train_texts, train_labels = _sentiment_texts(rng, 64)
    test_texts, test_labels = _sentiment_texts(rng, 200)
    model = AlbertClassifier(
        AlbertBackbone(**TINY_CONFIG), num_classes=2, dropout=0.0,
        preprocessor=AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                        sequence_length=16),
    )
    # 3e-3 for 6 epochs: 1e-2 sometimes stalls at the majority class.
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train_texts, train_labels, batch_size=16, epochs=6,
              verbose=0)
    # Float labels from a direct call (no second compiled predict).
    test_inputs = model.preprocessor(test_texts)
    float_labels = np.argmax(_numpy(model(test_inputs)), axis=-1)
    # A classifier that learned something, so agreement is not trivial.
    assert np.mean(float_labels == test_labels) >= 0.7
    model.quantize("int8")
    # TensorFlow's int8 matmul is fast under XLA only: "auto" picks it.
    assert model.jit_compile is True
    model.compile(optimizer="sgd")
    assert model.jit_compile is True
    int8_labels = np.argmax(model.predict(test_texts, batch_size=100,
                                          verbose=0), axis=-1)
    agreement = np.mean(int8_labels == float_labels)
    assert agreement >= 0.99, f"int8 agrees with float on {agreement:.1%}"
