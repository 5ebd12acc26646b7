"""Base for our functional models that create layers before `__init__`."""

import contextlib
import inspect

import keras

from keras_albert.models import quantization
from keras_albert.utils import compat
from keras_albert.utils.config_checks import unknown_keys_message

# Keyword arguments `keras.Model.__init__` understands (and `get_config`
# writes). Keras' functional models silently drop any other, so a typo such
# as `dropuot=0.3` would be lost without this check.
KERAS_MODEL_ARGUMENTS = ("name", "trainable", "dtype")


class FunctionalModel(keras.Model):
    """A `keras.Model` that may set layer attributes before `super().__init__`.

    Our models build their layers, wire them functionally and only then call
    `keras.Model.__init__`. On the torch backend a Model is a
    `torch.nn.Module`, which refuses attribute assignment before its
    `__init__`; the functional graph tracks every layer anyway, so until
    initialisation we set attributes directly.

    On JAX, `fit`, `evaluate` and `predict` keep the model usable when
    they fail (a bad batch, an interrupt): see
    `compat.jax_state_kept_on_error`. Keyword arguments that neither the
    subclass nor `keras.Model` knows raise a ValueError with a
    did-you-mean suggestion.

    `quantize("int8")` quantizes every `Dense` (see `quantization`), and
    the model's config records it (`quantization`), so a quantized model
    saved as a `.keras` file or a preset loads quantized. On TensorFlow a
    quantized model runs under XLA when `jit_compile` is `"auto"`, on CPU
    too: without XLA, TensorFlow's int8 matmul kernel is several times
    slower than its float one, while XLA's is faster.
    """

    def __init__(self, inputs, outputs, **kwargs):
        # A config written by a quantized model: its layers are rebuilt
        # float below, then quantized the same way (before weights load).
        saved_quantization = kwargs.pop(quantization.QUANTIZATION_KEY, None)
        if saved_quantization is not None:
            quantization.check_record(saved_quantization)
        unknown = [key for key in kwargs if key not in KERAS_MODEL_ARGUMENTS]
        if unknown:
            parameters = inspect.signature(type(self).__init__).parameters
            known = {
                name for name, p in parameters.items()
                if name != "self" and p.kind not in (p.VAR_KEYWORD,
                                                     p.VAR_POSITIONAL)
            } | set(KERAS_MODEL_ARGUMENTS)
            raise ValueError(
                unknown_keys_message(unknown, known, type(self).__name__)
            )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # `compile`'s `jit_compile` as asked (None: never compiled), so
        # `quantize` can tell "auto" from an explicit choice.
        self._requested_jit_compile = None
        if saved_quantization:
            quantization.restore_quantization(self, saved_quantization)

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Keras' `Model.quantize` (e.g. `model.quantize("int8")`).

        With `filters=None` every layer that has weights to quantize is
        quantized (each `Dense`; a block shared by several layers once);
        layers without any (LayerNorm, Dropout) are skipped without Keras'
        warning for each. On TensorFlow, unless `compile` was given an
        explicit `jit_compile`, the model then runs under XLA, where
        int8 matmuls are fast (see the class docstring).

        Args:
            mode: `"int8"` (tested here), or another Keras mode.
            config: optional `keras.quantizers.QuantizationConfig`. Saved
                models restore Keras' default config of the mode only.
            filters: optional Keras filters (regex on layer names, list of
                them, or a callable on the layer) choosing the layers.
        """
        if filters is None:
            filters = quantization.has_quantizable_weights
        super().quantize(mode, config=config, filters=filters, **kwargs)
        self._prefer_xla_when_quantized()

    def compile(self, *args, jit_compile="auto", **kwargs):
        """Keras' `compile`; `jit_compile="auto"` means XLA for a quantized
        model on TensorFlow (see the class docstring)."""
        self._requested_jit_compile = jit_compile
        if jit_compile == "auto" and self._quantized_on_tensorflow():
            jit_compile = True
        super().compile(*args, jit_compile=jit_compile, **kwargs)

    def _quantized_on_tensorflow(self):
        return (keras.backend.backend() == "tensorflow"
                and quantization.is_quantized(self))

    def _prefer_xla_when_quantized(self):
        if self._requested_jit_compile in (None, "auto") and (
            self._quantized_on_tensorflow()
        ):
            self.jit_compile = True

    def __setattr__(self, name, value):
        if keras.backend.backend() == "torch" and "_tracker" not in (
            self.__dict__
        ):
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    def fit(self, *args, **kwargs):
        with self._state_kept_on_error():
            return super().fit(*args, **kwargs)

    def evaluate(self, *args, **kwargs):
        with self._state_kept_on_error():
            return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):
        with self._state_kept_on_error():
            return super().predict(*args, **kwargs)

    def _state_kept_on_error(self):
        if keras.backend.backend() == "jax":
            return compat.jax_state_kept_on_error(self)
        return contextlib.nullcontext()
