"""`AlbertEarlyExitClassifier` (PABEE): the task contract, the in-graph
loop against a NumPy run of the PABEE rule, full depth equal to the plain
classifier, the weighted loss, exits trained on a frozen classifier, and
clear errors."""

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertEarlyExitClassifier
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer
from tests.conftest import TINY_CONFIG
from tests.test_case import run_task_test

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="XLA and tf.function are TensorFlow's; JAX's predict is "
           "jax.jit already",
)
TEXTS = ["this film was wonderful", "that film was terrible",
         "the quick brown fox"]


def _tokens(batch=8, length=7, seed=0):
    rng = np.random.default_rng(seed)
    # Random first tokens too: with random weights the `[CLS]` vector
    # barely depends on the other tokens, and the exits read only it.
    ids = rng.integers(5, TINY_CONFIG["vocabulary_size"], (batch, length))
    mask = np.ones((batch, length), "int32")
    for row in range(batch):
        mask[row, 3 + row % (length - 3):] = 0
    segments = np.zeros((batch, length), "int32")
    segments[:, length // 2:] = 1
    return {"token_ids": np.where(mask == 1, ids, 0).astype("int32"),
            "segment_ids": segments * mask, "padding_mask": mask}


def pabee(exit_logits, patience, regression_threshold=None):
    """The PABEE rule in NumPy on every exit's logits `(batch, layers,
    classes)`: `(logits, layers_used)`."""
    kept, used = [], []
    for row in exit_logits:
        streak, previous = 0, None
        for layer, logits in enumerate(row):
            if regression_threshold is None:
                prediction = int(np.argmax(logits))
                agrees = prediction == previous
            else:
                prediction = float(logits[0])
                agrees = previous is not None and abs(
                    prediction - previous) < regression_threshold
            streak = streak + 1 if agrees else 0
            previous = prediction
            if streak >= patience:
                break
        kept.append(logits)
        used.append(layer + 1)
    return np.stack(kept), np.array(used)


def disagreeing_model(num_layers=4, num_classes=2, patience=1, seed=3,
                      **config):
    """An early-exit model whose exits disagree often: large random exit
    heads (set from NumPy, the same on every backend)."""
    backbone = AlbertBackbone(**dict(TINY_CONFIG, num_layers=num_layers,
                                     **config))
    model = AlbertEarlyExitClassifier(
        backbone, num_classes=num_classes, patience=patience, dropout=0.0,
        regression_threshold=0.5)
    rng = np.random.default_rng(seed)
    # Large embeddings, so that examples differ at every layer.
    table = backbone.embeddings.token_embeddings
    table.assign(rng.normal(size=table.shape))
    exits = model.early_exit
    exits.exit_kernel.assign(
        rng.normal(scale=2.0, size=exits.exit_kernel.shape))
    model.head.kernel.assign(
        rng.normal(scale=2.0, size=model.head.kernel.shape))
    return model


def _numpy(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def test_task_contract(tokenizer, tmp_path):
    run_task_test(
        AlbertEarlyExitClassifier,
        {"backbone": AlbertBackbone(**TINY_CONFIG), "num_classes": 3,
         "patience": 1, "regression_threshold": 0.25, "dropout": 0.2,
         "label_names": ["a", "b", "c"],
         "preprocessor": AlbertPreprocessor(tokenizer, sequence_length=16)},
        _tokens(batch=2),
        {"logits": (2, 3), "layers_used": (2,), "exit_logits": (2, 2, 3)},
        tmp_path=tmp_path,
        fit_data=(TEXTS, np.array([0, 1, 2])), predict_data=TEXTS,
        predict_method="predict_labels",
        check_prediction=lambda labels: set(labels) <= {"a", "b", "c"},
        compile_kwargs={"optimizer": "sgd"},
    )


@pytest.mark.parametrize("config, patiences", [
    ({}, (1, 2)),  # ALBERT: one block for every layer, one loop
    # A loop per run of layers that share blocks (here one per layer).
    ({"num_hidden_groups": 2, "sharing": "none"}, (1,)),
])
def test_each_example_exits_as_the_pabee_rule_says(config, patiences):
    model = disagreeing_model(**config)
    x = _tokens()
    # Every exit of the full depth (no dropout: dropout=0 everywhere).
    every_exit = _numpy(model(x, training=True))["exit_logits"]
    for patience in patiences:
        model.patience = patience
        want_logits, want_used = pabee(every_exit, patience)
        for how, got in (("eager", _numpy(model(x))),
                         ("predict", model.predict(x, verbose=0))):
            np.testing.assert_array_equal(got["layers_used"], want_used,
                                          err_msg=how)
            np.testing.assert_allclose(got["logits"], want_logits,
                                       atol=1e-5, err_msg=how)
            ran = np.arange(4)[None, :] < want_used[:, None]
            np.testing.assert_allclose(
                got["exit_logits"], np.where(ran[..., None], every_exit, 0),
                atol=1e-5, err_msg=how)
        if patience == 1:
            # The batch really mixes exits, and stops before full depth
            # where every example has exited.
            assert len(set(want_used.tolist())) >= 2, want_used


def test_regression_exits_when_the_score_settles():
    model = disagreeing_model(num_classes=1, patience=1)
    x = _tokens()
    every_exit = _numpy(model(x, training=True))["exit_logits"]
    want_logits, want_used = pabee(every_exit, 1, regression_threshold=0.5)
    got = model.predict(x, verbose=0)
    np.testing.assert_array_equal(got["layers_used"], want_used)
    np.testing.assert_allclose(got["logits"], want_logits, atol=1e-5)


def test_full_depth_patience_equals_the_plain_classifier():
    backbone = AlbertBackbone(**dict(TINY_CONFIG, num_layers=3))
    classifier = AlbertClassifier(backbone, num_classes=3, dropout=0.0)
    classifier.head.kernel.assign(np.random.default_rng(0).normal(
        size=classifier.head.kernel.shape))
    x = _tokens()
    want = keras.ops.convert_to_numpy(classifier.predict(x, verbose=0))
    model = AlbertEarlyExitClassifier.from_classifier(classifier,
                                                      patience=3)
    for how in ("predict", "eager, patience 10"):
        if how == "predict":
            got = model.predict(x, verbose=0)
        else:
            model.patience = 10
            got = _numpy(model(x))
        np.testing.assert_allclose(got["logits"], want, atol=1e-6, rtol=0,
                                   err_msg=how)
        np.testing.assert_array_equal(got["layers_used"], 3, err_msg=how)
        np.testing.assert_array_equal(got["exit_logits"][:, -1],
                                      got["logits"], err_msg=how)
    # The classifier was copied, not changed.
    assert classifier.backbone is backbone and backbone.trainable


def test_quantized_head_runs_the_same_rule():
    """The loop reads every exit from one stacked kernel; an int8 head
    has no float kernel to stack, so the loop calls it instead, with the
    same exits."""
    model = disagreeing_model(patience=1)
    x = _tokens()
    stacked = _numpy(model(x))
    assert model.early_exit._stacked_exits("float32") is not None
    model.quantize("int8")
    assert model.early_exit._stacked_exits("float32") is None
    every_exit = _numpy(model(x, training=True))["exit_logits"]
    want_logits, want_used = pabee(every_exit, 1)
    got = model.predict(x, verbose=0)
    np.testing.assert_array_equal(got["layers_used"], want_used)
    np.testing.assert_allclose(got["logits"], want_logits, atol=1e-5)
    # int8 moves the logits a little, not the exits of this batch.
    np.testing.assert_array_equal(got["layers_used"],
                                  stacked["layers_used"])


@TF_ONLY
def test_loop_runs_under_xla_and_tf_function():
    import tensorflow as tf

    model = disagreeing_model(patience=1)
    x = _tokens()
    want = _numpy(model(x))
    traced = tf.function(lambda inputs: model(inputs, training=False))
    xla = tf.function(lambda inputs: model(inputs, training=False),
                      jit_compile=True)
    for how, fn in (("tf.function", traced), ("xla", xla)):
        got = _numpy(fn({k: tf.constant(v) for k, v in x.items()}))
        np.testing.assert_array_equal(got["layers_used"],
                                      want["layers_used"], err_msg=how)
        np.testing.assert_allclose(got["logits"], want["logits"],
                                   atol=1e-5, err_msg=how)
    assert len(set(want["layers_used"].tolist())) >= 2


def test_loss_is_the_depth_weighted_average_of_the_exits():
    model = disagreeing_model(num_layers=3, num_classes=3)
    model.compile(optimizer="sgd")
    x = _tokens(batch=4)
    y = np.array([0, 1, 2, 1])
    entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    outputs = model(x, training=True)
    exits = keras.ops.convert_to_numpy(outputs["exit_logits"])
    want = sum((j + 1) / 6 * float(entropy(y, exits[:, j]))
               for j in range(3))
    got = model.compute_loss(x, y, outputs, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want,
                               rtol=1e-5)
    served = model(x)
    got = model.compute_loss(x, y, served, training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(got),
        keras.ops.convert_to_numpy(entropy(y, served["logits"])), rtol=1e-5)


def test_exits_train_on_a_frozen_fine_tuned_classifier(tokenizer, tmp_path):
    classifier = AlbertClassifier(
        AlbertBackbone(**TINY_CONFIG), num_classes=2,
        preprocessor=AlbertPreprocessor(tokenizer, sequence_length=16))
    classifier.save_to_preset(str(tmp_path / "classifier"))
    model = AlbertEarlyExitClassifier.from_preset(
        str(tmp_path / "classifier"), patience=1, exits_trainable_only=True)
    assert model.preprocessor is not None
    frozen = [w.numpy() if hasattr(w, "numpy") else np.asarray(w)
              for w in model.backbone.get_weights() +
              model.head.get_weights()]
    np.testing.assert_array_equal(model.head.get_weights()[0],
                                  classifier.head.get_weights()[0])
    exits_before = keras.ops.convert_to_numpy(model.early_exit.exit_kernel)
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(TEXTS, np.array([0, 1, 1]), batch_size=3, epochs=1, verbose=0)
    for before, after in zip(frozen, model.backbone.get_weights() +
                             model.head.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(
        keras.ops.convert_to_numpy(model.early_exit.exit_kernel),
        exits_before)
    scores = model.task_metrics(TEXTS, np.array([0, 1, 1]))
    assert 2 <= scores["mean_layers_used"] <= 2  # patience 1, 2 layers
    assert {"accuracy", "macro_f1", "mcc"} <= set(scores)
    # The saved model keeps its setting and patience.
    model.save_to_preset(str(tmp_path / "early_exit"))
    restored = AlbertEarlyExitClassifier.from_preset(
        str(tmp_path / "early_exit"))
    assert restored.exits_trainable_only and restored.patience == 1
    assert not restored.backbone.trainable


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": 0}, "`patience` must be an integer >= 1"),
    ({"patience": 1.5}, "`patience` must be an integer >= 1"),
    ({"patience": True}, "`patience` must be an integer >= 1"),
    ({"regression_threshold": 0}, "`regression_threshold` must be a number"),
    ({"regression_threshold": -1.0}, "`regression_threshold` must be a"),
    ({"regression_threshold": "x"}, "`regression_threshold` must be a"),
    ({"num_classes": 0}, "`num_classes` must be an integer >= 1"),
])
def test_bad_settings_are_clear_errors(kwargs, message):
    backbone = AlbertBackbone(**TINY_CONFIG)
    with pytest.raises(ValueError, match=message):
        AlbertEarlyExitClassifier(backbone, **{"num_classes": 2, **kwargs})


def test_bad_sources_and_patience_changes_are_clear_errors():
    backbone = AlbertBackbone(**TINY_CONFIG)
    model = AlbertEarlyExitClassifier(backbone, num_classes=2)
    with pytest.raises(ValueError, match="`patience` must be an integer"):
        model.patience = -2
    assert model.patience == 6
    with pytest.raises(ValueError, match="activation='softmax'"):
        AlbertEarlyExitClassifier.from_classifier(AlbertClassifier(
            backbone, num_classes=2, activation="softmax"))
    with pytest.raises(ValueError, match="takes an AlbertClassifier"):
        AlbertEarlyExitClassifier.from_classifier(model)
    with pytest.raises(ValueError, match="regressor"):
        AlbertEarlyExitClassifier(backbone, num_classes=1).predict_proba(
            _tokens(batch=1))
