"""Bad token ids and lengths in every execution mode.

The same message everywhere: a `ValueError` where inputs are concrete
(eager calls, numpy inputs, generators, the TFLite client) and a
`tf.errors.InvalidArgumentError` from graphs (`tf.data` pipelines of
`fit`/`evaluate`/`predict`, `tf.function`, SavedModel signatures). Never
a gather of garbage (negative ids wrap, XLA clamps) or a raw gather/slice
error, and the model keeps working after the error.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import TINY_CONFIG

BACKEND = keras.backend.backend()
ALL = ("tensorflow", "jax", "torch")
COMPILED = ("tensorflow", "jax")  # jit_compile=True, SavedModel export

BAD = [
    ("token id too large", dict(value=999),
     r"Token id 999 is out of range for a vocabulary of 160 tokens "
     r"\(valid ids: 0\.\.159\)"),
    ("negative token id", dict(value=-1), r"Token id -1 is out of range"),
    ("segment id too large", dict(segment=2),
     r"Segment id 2 is out of range: the model has 2 segments"),
    ("negative segment id", dict(segment=-1),
     r"Segment id -1 is out of range"),
    # TensorFlow's assertion escapes the quote: model\'s.
    ("too long", dict(length=65),
     r"Sequence length 65 is longer than the model\\?'s "
     r"`max_sequence_length=64`"),
    ("empty rows", dict(length=0),
     r"Sequence length 0: every row needs at least one token"),
]


def token_inputs(value=7, segment=0, length=6, batch=2):
    shape = (batch, length)
    return {"token_ids": np.full(shape, value, "int32"),
            "segment_ids": np.full(shape, segment, "int32"),
            "padding_mask": np.ones(shape, "int32")}


LABELS = np.array([0, 1])


def batches(x, y=None):
    return tf.data.Dataset.from_tensor_slices(
        x if y is None else (x, y)).batch(2)


def repeat(x, y=None):
    while True:
        yield (x,) if y is None else (x, y)


def _classifier(jit_compile=False):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    keras.utils.set_random_seed(3)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=2,
                             dropout=0.0)
    model.compile(optimizer=keras.optimizers.SGD(0.0),
                  jit_compile=jit_compile)
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A classifier, the same weights compiled with XLA, and (where
    possible) its SavedModel."""
    model = _classifier()
    built = {"model": model}
    if BACKEND in COMPILED:
        jitted = _classifier(jit_compile=True)
        jitted.set_weights(model.get_weights())
        built["jitted"] = jitted
        from keras_albert.export import export_saved_model

        path = tmp_path_factory.mktemp("execution_modes") / "sm"
        export_saved_model(model, path)
        built["saved"] = tf.saved_model.load(str(path))
    return built


@pytest.fixture(scope="module")
def tflite_model(models, tmp_path_factory):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    path = tmp_path_factory.mktemp("execution_modes_tflite") / "m.tflite"
    export_tflite(models["model"], path, preprocessor=None)
    return TFLiteModel(path)


def _serve(saved, x):
    return saved.signatures["serve_token_ids"](
        **{k: tf.constant(v) for k, v in x.items()})["logits"]


def _tf_function(model, x):
    spec = {k: tf.TensorSpec((None, None), tf.int32) for k in x}
    return tf.function(model, input_signature=[spec])(x)


# mode: (backends, error type, run(models, x))
MODES = {
    "call": (ALL, ValueError, lambda m, x: m["model"](x)),
    "predict arrays": (ALL, ValueError,
                       lambda m, x: m["model"].predict(x, verbose=0)),
    "predict dataset": (ALL, tf.errors.InvalidArgumentError,
                        lambda m, x: m["model"].predict(batches(x),
                                                        verbose=0)),
    "evaluate dataset": (ALL, tf.errors.InvalidArgumentError,
                         lambda m, x: m["model"].evaluate(
                             batches(x, LABELS), verbose=0)),
    "fit dataset": (ALL, tf.errors.InvalidArgumentError,
                    lambda m, x: m["model"].fit(batches(x, LABELS),
                                                verbose=0)),
    "fit generator": (ALL, ValueError,
                      lambda m, x: m["model"].fit(repeat(x, LABELS),
                                                  steps_per_epoch=1,
                                                  verbose=0)),
    "backbone predict dataset": (
        ALL, tf.errors.InvalidArgumentError,
        lambda m, x: m["model"].backbone.predict(batches(x), verbose=0)),
    "fit jit_compile arrays": (
        COMPILED, ValueError,
        lambda m, x: m["jitted"].fit(x, LABELS, verbose=0)),
    "predict jit_compile dataset": (
        COMPILED, tf.errors.InvalidArgumentError,
        lambda m, x: m["jitted"].predict(batches(x), verbose=0)),
    "fit jit_compile dataset": (
        COMPILED, tf.errors.InvalidArgumentError,
        lambda m, x: m["jitted"].fit(batches(x, LABELS), verbose=0)),
    "tf.function": (("tensorflow",), tf.errors.InvalidArgumentError,
                    lambda m, x: _tf_function(m["model"], x)),
    "SavedModel serve_token_ids": (
        COMPILED, tf.errors.InvalidArgumentError,
        lambda m, x: _serve(m["saved"], x)),
}
CASES = [(mode, *bad) for mode in MODES for bad in BAD]


@pytest.mark.parametrize(
    "mode, name, kwargs, words", CASES,
    ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_ids_and_lengths_raise_the_same_message(models, mode, name,
                                                    kwargs, words):
    backends, error, run = MODES[mode]
    if BACKEND not in backends:
        pytest.skip(f"{mode} does not run on {BACKEND}")
    with pytest.raises(error, match=words):
        run(models, token_inputs(**kwargs))


@pytest.mark.parametrize("mode", list(MODES))
def test_good_inputs_still_work_in_every_mode(models, mode):
    backends, _, run = MODES[mode]
    if BACKEND not in backends:
        pytest.skip(f"{mode} does not run on {BACKEND}")
    x = token_inputs()
    expected = keras.ops.convert_to_numpy(models["model"](x))
    out = run(models, x)
    if not isinstance(out, keras.callbacks.History) and not isinstance(
            out, (list, float)):
        out = out["pooled_output"] if isinstance(out, dict) else out
        if out.shape == expected.shape:
            np.testing.assert_allclose(keras.ops.convert_to_numpy(out),
                                       expected, atol=1e-5)


def test_model_keeps_its_weights_after_failed_calls(models):
    """On JAX, Keras empties the variables while its loop runs; an error
    in the first step once left every weight empty for good."""
    model = models["model"]
    x = token_inputs()
    before = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    for run in (
        lambda: model.predict(batches(token_inputs(999)), verbose=0),
        lambda: model.evaluate(batches(token_inputs(-1), LABELS), verbose=0),
        lambda: model.fit(batches(token_inputs(length=65), LABELS),
                          verbose=0),
    ):
        with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
            run()
    after = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    np.testing.assert_allclose(after, before, atol=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TFLite export is "
                    "traced from the TensorFlow backend")
@pytest.mark.parametrize("name, kwargs, words", BAD,
                         ids=[b[0] for b in BAD])
def test_tflite_client_checks_what_the_graph_cannot(tflite_model, name,
                                                    kwargs, words):
    """TFLite builtins have no assertions; `TFLiteModel` checks first."""
    with pytest.raises(ValueError, match=words):
        tflite_model(token_inputs(**kwargs))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TFLite export is "
                    "traced from the TensorFlow backend")
def test_tflite_graph_keeps_to_builtin_ops(models, tflite_model):
    assert tflite_model.settings["select_tf_ops"] is False
    x = token_inputs()
    np.testing.assert_allclose(
        tflite_model(x)["logits"],
        keras.ops.convert_to_numpy(models["model"](x)), atol=1e-4)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.function")
def test_checks_leave_xla_compilable_graphs(models):
    """XLA has no assertions and cannot compile string ops: inside
    `jit_compile=True` the checks are left out (Keras' fit/predict check
    batches before the compiled step), and the graph still compiles."""
    model = models["model"]
    x = token_inputs()
    compiled = tf.function(model, jit_compile=True)
    np.testing.assert_allclose(
        compiled(x).numpy(), keras.ops.convert_to_numpy(model(x)),
        atol=1e-5)


@pytest.mark.skipif(BACKEND not in COMPILED, reason="jit_compile")
def test_jit_compiled_training_runs(models):
    """TensorFlow's XLA could not compile the gradient of the encoder's
    layer loop; training under XLA unrolls it."""
    history = models["jitted"].fit(token_inputs(), LABELS, epochs=2,
                                   verbose=0)
    assert np.isfinite(history.history["loss"]).all()


UNEQUAL = dict(token_inputs(), padding_mask=np.ones((2, 5), "int32"))
UNEQUAL_MODES = {
    "call": (ALL, ValueError, lambda m, x: m["model"](x)),
    "predict arrays": (ALL, ValueError,
                       lambda m, x: m["model"].predict(x, verbose=0)),
    "tf.function": (("tensorflow",), tf.errors.InvalidArgumentError,
                    lambda m, x: _tf_function(m["model"], x)),
    "SavedModel serve_token_ids": (
        COMPILED, tf.errors.InvalidArgumentError,
        lambda m, x: _serve(m["saved"], x)),
}


@pytest.mark.parametrize("mode", list(UNEQUAL_MODES))
def test_unequal_input_shapes(models, mode):
    """Once a raw reshape error from inside the attention."""
    backends, error, run = UNEQUAL_MODES[mode]
    if BACKEND not in backends:
        pytest.skip(f"{mode} does not run on {BACKEND}")
    with pytest.raises(error, match="must have the same shape"):
        run(models, UNEQUAL)
