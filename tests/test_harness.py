"""The shared contract checks (`tests/test_case.py`) catch what they are
meant to: each check fails once on a deliberately broken layer, model or
preprocessor."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_albert import AlbertBackbone
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer
from tests import test_case
from tests.models.test_backbone_contract import INIT_KWARGS
from tests.models.test_backbone_contract import TOKENS

PACKAGE = "keras_albert_harness_selftest"
X = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")


def _register(cls):
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


@_register
class ScaledDense(keras.layers.Layer):
    """A well-behaved layer: `Dense(units)(x) * scale`."""

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale
        self.dense = keras.layers.Dense(units, dtype=self.dtype_policy,
                                        name="dense")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        return self.dense(x) * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "scale": self.scale})
        return config


def _run_layer(cls, **kwargs):
    test_case.run_layer_test(
        cls, {"units": 5, "scale": 2.0}, X, (2, 3, 5),
        expected_num_trainable_weights=2, **kwargs,
    )


def test_a_correct_layer_passes(tmp_path):
    _run_layer(ScaledDense, tmp_path=tmp_path)


@_register
class ForgetsScale(ScaledDense):
    def get_config(self):
        config = super().get_config()
        del config["scale"]
        return config


def test_catches_get_config_forgetting_an_argument(tmp_path):
    with pytest.raises(AssertionError, match="forgets the argument 'scale'"):
        _run_layer(ForgetsScale, tmp_path=tmp_path)


@_register
class StoresDefaultScale(ScaledDense):
    def get_config(self):
        return {**super().get_config(), "scale": 1.0}


def test_catches_get_config_storing_another_value(tmp_path):
    with pytest.raises(AssertionError, match="stores scale=1.0"):
        _run_layer(StoresDefaultScale, tmp_path=tmp_path)


@_register
class IgnoresDtypePolicy(ScaledDense):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, scale=scale, **kwargs)
        # The sublayer does not get `dtype=self.dtype_policy`.
        self.dense = keras.layers.Dense(units, name="dense")


def test_catches_a_layer_ignoring_its_dtype_policy(tmp_path):
    # Everything but the precision check passes.
    _run_layer(IgnoresDtypePolicy, tmp_path=tmp_path,
               run_precision_check=False)
    with pytest.raises(AssertionError,
                       match="float outputs have dtypes.*expected bfloat16"):
        test_case.check_layer_precision(
            IgnoresDtypePolicy, {"units": 5, "scale": 2.0}, X)


@_register
class LiesAboutItsShape(ScaledDense):
    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units + 1,)


def test_catches_a_wrong_symbolic_output_shape(tmp_path):
    with pytest.raises(AssertionError, match="symbolic output shape"):
        _run_layer(LiesAboutItsShape, tmp_path=tmp_path)


def test_catches_an_unexpected_output_shape(tmp_path):
    with pytest.raises(AssertionError, match="output shape"):
        test_case.run_layer_test(ScaledDense, {"units": 5}, X, (2, 3, 4),
                                 tmp_path=tmp_path)


@_register
class UnsavedState(ScaledDense):
    """Keeps random state in a tensor, not a variable: never saved."""

    def build(self, input_shape):
        super().build(input_shape)
        self.offset = keras.random.normal((self.units,))

    def call(self, x):
        return super().call(x) + self.offset


def test_catches_state_lost_by_keras_saving(tmp_path):
    layer = UnsavedState(units=5)
    inputs = keras.Input((3, 4))
    model = keras.Model(inputs, layer(inputs))
    outputs = model(X)
    with pytest.raises(AssertionError, match="after .keras round trip"):
        test_case.check_layer_saving(UnsavedState, model, X, outputs,
                                     tmp_path)


def _is_traced(x):
    backend = keras.config.backend()
    if backend == "tensorflow":
        return not tf.executing_eagerly()
    if backend == "jax":
        import jax

        return isinstance(x, jax.core.Tracer)
    return False


@_register
class DiffersWhenCompiled(ScaledDense):
    def call(self, x):
        y = super().call(x)
        return y * 2.0 if _is_traced(x) else y


@pytest.mark.skipif(
    keras.config.backend() == "torch",
    reason="on torch the compiled call is Keras' predict step without "
           "torch.compile (see tests/test_case.py), so it runs eagerly",
)
def test_catches_compiled_and_eager_calls_disagreeing(tmp_path):
    with pytest.raises(AssertionError, match="compiled vs eager"):
        _run_layer(DiffersWhenCompiled, tmp_path=tmp_path,
                   run_precision_check=False)


@_register
class LoopsWithAFreshClosure(ScaledDense):
    """Runs its dense layer twice through `fori_loop`, with a new body
    function on every call (what recompiles on JAX)."""

    def call(self, x):
        x = self.dense(x)

        def body(i, y):
            return y * self.scale

        return keras.ops.fori_loop(0, 2, body, x)


@pytest.mark.skipif(keras.config.backend() != "jax",
                    reason="JAX's compilation cache")
def test_catches_eager_calls_that_recompile():
    with pytest.raises(AssertionError, match="compiled .* again"):
        test_case.check_eager_call_does_not_recompile(
            LoopsWithAFreshClosure(units=5, scale=2.0), X)


# -- backbones ---------------------------------------------------------------
@_register
class BackboneLosingItsPolicy(AlbertBackbone):
    """The bug fixed in models/albert_backbone.py: the functional model
    ignores `dtype`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dtype_policy = "float32"


def test_catches_a_backbone_losing_its_dtype_policy():
    with pytest.raises(AssertionError, match="dtype_policy is float32"):
        test_case.check_backbone_precision(BackboneLosingItsPolicy,
                                           INIT_KWARGS, TOKENS)


@_register
class BackboneForgettingDropout(AlbertBackbone):
    def get_config(self):
        config = super().get_config()
        del config["dropout"]
        return config


def test_catches_a_backbone_config_forgetting_an_argument():
    backbone = BackboneForgettingDropout(**INIT_KWARGS)
    with pytest.raises(AssertionError, match="forgets the argument 'dropout'"):
        test_case.check_model_config(BackboneForgettingDropout, backbone,
                                     INIT_KWARGS, TOKENS, backbone(TOKENS))


# -- preprocessors -----------------------------------------------------------
TEXTS = ["a dog", "the quick brown fox jumps"]
TOKEN_DICT = {k: ((2, None), "int32")
              for k in ("token_ids", "segment_ids", "padding_mask")}


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _run_preprocessor(cls, tokenizer, tmp_path):
    test_case.run_preprocessor_test(
        # Widths rounded to 8 (not the "auto" buckets, which give a single
        # width of 16 here): a batch of one then shows its padding.
        cls, {"tokenizer": tokenizer, "sequence_length": 16,
              "length_buckets": None}, TEXTS,
        TOKEN_DICT, tmp_path=tmp_path, labels=np.array([0, 1]),
    )


def test_a_correct_preprocessor_passes(tokenizer, tmp_path):
    _run_preprocessor(AlbertPreprocessor, tokenizer, tmp_path)


@_register
class ForgetsSequenceLength(AlbertPreprocessor):
    def get_config(self):
        config = super().get_config()
        del config["sequence_length"]
        return config


def test_catches_a_preprocessor_forgetting_an_argument(tokenizer, tmp_path):
    with pytest.raises(AssertionError,
                       match="forgets the argument 'sequence_length'"):
        _run_preprocessor(ForgetsSequenceLength, tokenizer, tmp_path)


@_register
class FloatOutputs(AlbertPreprocessor):
    # (Not int64: JAX without x64 would turn it back into int32.)
    def pack(self, x):
        return {k: tf.cast(v, "float32") for k, v in super().pack(x).items()}


def test_catches_wrong_output_dtypes(tokenizer, tmp_path):
    with pytest.raises(AssertionError, match="dtype float32 != int32"):
        _run_preprocessor(FloatOutputs, tokenizer, tmp_path)


@_register
class EagerOnly(AlbertPreprocessor):
    def pack(self, x):
        # `.numpy()` exists on eager tensors only, not inside tf.data.
        outputs = super().pack(x)
        return {k: tf.constant(v.numpy()) for k, v in outputs.items()}


def test_catches_a_preprocessor_that_cannot_run_in_tf_data(tokenizer,
                                                           tmp_path):
    with pytest.raises(AssertionError, match="does not run in tf.data"):
        _run_preprocessor(EagerOnly, tokenizer, tmp_path)


@_register
class MasksPadding(AlbertPreprocessor):
    def pack(self, x):
        outputs = super().pack(x)
        outputs["padding_mask"] = tf.ones_like(outputs["padding_mask"])
        return outputs


def test_catches_padding_marked_as_real_tokens(tokenizer, tmp_path):
    with pytest.raises(AssertionError, match="real tokens past"):
        _run_preprocessor(MasksPadding, tokenizer, tmp_path)
