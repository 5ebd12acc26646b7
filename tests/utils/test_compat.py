"""`keras_albert.utils.compat`: each accessor works with the installed
packages, and a missing private name gives one clear error."""

import ast
import inspect
import sys
import types

import keras
import numpy as np
import pytest

from keras_albert.utils import compat

BACKEND = keras.backend.backend()
tf_backend_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="a TensorFlow-trainer hook")


def _clear_message(error, package, name):
    message = str(error.value)
    assert name in message
    assert f"{package} {compat.installed_version(package)} (installed)" in (
        message)
    assert f"checked with {package} {compat.CHECKED_VERSIONS[package]}" in (
        message)


# -- the versions named are the ones installed -------------------------------
@pytest.mark.parametrize("package", sorted(compat.CHECKED_VERSIONS))
def test_checked_versions_are_the_installed_series(package):
    series = ".".join(compat.CHECKED_VERSIONS[package].split(".")[:2])
    assert compat.installed_version(package).startswith(series + "."), (
        f"{package} {compat.installed_version(package)} is installed but "
        f"compat.py was checked with {compat.CHECKED_VERSIONS[package]}: "
        "re-check every accessor, then update CHECKED_VERSIONS."
    )


def test_compat_imports_nothing_from_keras_albert():
    tree = ast.parse(inspect.getsource(compat))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names]
    names += [n.module or "" for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] == "keras_albert"]


# -- keras-hub ---------------------------------------------------------------
def test_keras_hub_accessors_work():
    import keras_hub

    from keras_albert.preprocessing import AlbertPreprocessor
    from keras_albert.preprocessing import AlbertTokenizer

    layer_class = compat.preprocessing_layer_class()
    assert issubclass(layer_class, keras.layers.Layer)
    assert issubclass(AlbertPreprocessor, layer_class)
    base = compat.sentence_piece_tokenizer_class()
    assert base is keras_hub.tokenizers.SentencePieceTokenizer
    assert issubclass(AlbertTokenizer, base)
    assert callable(compat.preprocessing_function())
    with compat.no_convert_scope()():
        pass
    kwargs = compat.tf_workflow_kwargs()
    assert kwargs == {"_allow_python_workflow": False}
    layer = layer_class(**kwargs)  # accepted as a layer argument
    assert layer.name


def test_sentence_piece_op_is_the_tf_text_resource(spm_path):
    import tensorflow_text as tf_text

    from keras_albert.preprocessing import AlbertTokenizer

    tokenizer = AlbertTokenizer(proto=spm_path)
    tokenizer.tokenize_tf(["the quick brown fox"])
    op = compat.sentence_piece_op(tokenizer)
    assert isinstance(op, tf_text.SentencepieceTokenizer)
    assert compat.sentence_piece_op(types.SimpleNamespace()) is None


def test_transformer_encoder_sublayers():
    import keras_hub

    layer = keras_hub.layers.TransformerEncoder(intermediate_dim=16,
                                                num_heads=2)
    layer.build((None, 4, 8))
    sublayers = compat.transformer_encoder_sublayers(layer)
    assert set(sublayers) == set(compat.TRANSFORMER_ENCODER_SUBLAYERS)
    assert isinstance(sublayers["attention"],
                      keras.layers.MultiHeadAttention)
    for name in ("intermediate_dense", "output_dense"):
        assert isinstance(sublayers[name], keras.layers.Dense)
    for name in ("attention_layer_norm", "feedforward_layer_norm"):
        assert isinstance(sublayers[name], keras.layers.LayerNormalization)


def test_missing_keras_hub_module_is_named(monkeypatch):
    import keras_hub.src.utils as utils

    monkeypatch.delattr(utils, "tensor_utils")
    monkeypatch.setitem(sys.modules, "keras_hub.src.utils.tensor_utils",
                        None)
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.preprocessing_function()
    _clear_message(error, "keras-hub", "keras_hub.src.utils.tensor_utils")


def test_missing_keras_hub_names_are_named(monkeypatch):
    import keras_hub
    from keras_hub.src.layers.preprocessing import preprocessing_layer
    from keras_hub.src.utils import tensor_utils

    monkeypatch.setattr(keras_hub, "__version__", "0.99.0")
    monkeypatch.delattr(tensor_utils, "no_convert_scope")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.no_convert_scope()
    _clear_message(error, "keras-hub", "no_convert_scope")
    assert "keras-hub 0.99.0 (installed)" in str(error.value)
    assert "keras-hub==0.32.*" in str(error.value)

    monkeypatch.delattr(keras_hub.tokenizers.SentencePieceTokenizer,
                        "_tokenize_tf")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.sentence_piece_tokenizer_class()
    _clear_message(error, "keras-hub", "SentencePieceTokenizer._tokenize_tf")

    monkeypatch.delattr(preprocessing_layer.PreprocessingLayer,
                        "_use_tf_workflow")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.tf_workflow_kwargs()
    _clear_message(error, "keras-hub", "_allow_python_workflow")

    with pytest.raises(compat.PrivateAPIError) as error:
        compat.transformer_encoder_sublayers(keras.layers.Dense(2))
    _clear_message(error, "keras-hub", "TransformerEncoder._self_attention")


# -- keras -------------------------------------------------------------------
@pytest.mark.skipif(BACKEND not in ("tensorflow", "jax"),
                    reason="ExportArchive writes SavedModels from TF/JAX")
def test_export_archive_trackable():
    archive = keras.export.ExportArchive()
    trackable = compat.export_archive_trackable(archive)
    assert trackable.variables == []


def test_missing_keras_names_are_named():
    for call, name in (
        (lambda: compat.export_archive_trackable(object()), "_tf_trackable"),
        (lambda: compat.replace_maybe_symbolic_build(object(), print),
         "_maybe_symbolic_build"),
        (lambda: compat.symbolic_build(object(), None), "_symbolic_build"),
        (lambda: compat.optimizer_variable_index(object(), None),
         "_get_variable_index"),
    ):
        with pytest.raises(compat.PrivateAPIError) as error:
            call()
        _clear_message(error, "keras", name)


def _compiled_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@tf_backend_only
def test_replace_maybe_symbolic_build_is_called_by_fit():
    model = _compiled_model()
    calls = []

    def maybe_symbolic_build(iterator=None, data_batch=None):
        calls.append((iterator, data_batch))

    compat.replace_maybe_symbolic_build(model, maybe_symbolic_build)
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
    assert calls


def test_symbolic_build_builds_the_optimizer():
    model = _compiled_model()
    assert not model.optimizer.built
    batch = (np.ones((2, 3), "float32"), np.ones((2, 2), "float32"), None)
    compat.symbolic_build(model, batch)
    assert model.optimizer.built


def test_optimizer_variable_index():
    variables = [keras.Variable(np.zeros(2)), keras.Variable(np.zeros(3))]
    optimizer = keras.optimizers.SGD()
    optimizer.build(variables)
    assert [compat.optimizer_variable_index(optimizer, v)
            for v in variables] == [0, 1]


# -- tensorflow --------------------------------------------------------------
def test_convert_variables_to_constants_freezes():
    import tensorflow as tf

    weight = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec((), tf.float32)])
    def double(x):
        return x * weight

    frozen = compat.convert_variables_to_constants()(
        double.get_concrete_function())
    assert not frozen.graph.variables
    assert float(frozen(tf.constant(3.0))[0]) == 6.0


def test_missing_tensorflow_module_is_named(monkeypatch):
    from tensorflow.python import framework

    monkeypatch.delattr(framework, "convert_to_constants")
    monkeypatch.setitem(
        sys.modules, "tensorflow.python.framework.convert_to_constants", None)
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.convert_variables_to_constants()
    _clear_message(error, "tensorflow",
                   "tensorflow.python.framework.convert_to_constants")


def test_missing_tensorflow_name_is_named(monkeypatch):
    from tensorflow.python.framework import convert_to_constants

    monkeypatch.delattr(convert_to_constants,
                        "convert_variables_to_constants_v2")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.convert_variables_to_constants()
    _clear_message(error, "tensorflow", "convert_variables_to_constants_v2")


def test_private_api_error_is_not_an_attribute_or_import_error():
    error = compat.missing_private_api("keras", "x._y")
    assert isinstance(error, RuntimeError)
    assert not isinstance(error, (AttributeError, ImportError))


# -- tensorflow-text ---------------------------------------------------------
def test_tensorflow_text_accessors_work(spm_path):
    import tensorflow as tf
    import tensorflow_text as tf_text

    from keras_albert.preprocessing.sentencepiece_resource import (
        SentencepieceModelResource,
    )

    with open(spm_path, "rb") as f:
        model = f.read()
    handle = compat.sentencepiece_model_op()(model=model,
                                             shared_name="compat_test")
    assert handle.dtype == tf.resource
    tokenizer = tf_text.SentencepieceTokenizer(model=model)
    before = tokenizer.tokenize(["the quick brown fox"]).to_list()
    resource = SentencepieceModelResource(model)
    compat.replace_sentencepiece_model(tokenizer, resource)
    assert tokenizer._model_resource is resource
    assert tokenizer.tokenize(["the quick brown fox"]).to_list() == before


def test_missing_tensorflow_text_names_are_named(monkeypatch):
    from tensorflow_text.python.ops import sentencepiece_tokenizer

    monkeypatch.delattr(sentencepiece_tokenizer.gen_sentencepiece_tokenizer,
                        "sentencepiece_op")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.sentencepiece_model_op()
    _clear_message(error, "tensorflow-text", "sentencepiece_op")
    with pytest.raises(compat.PrivateAPIError) as error:
        compat.replace_sentencepiece_model(object(), None)
    _clear_message(error, "tensorflow-text", "_model_resource")
