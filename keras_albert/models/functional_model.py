"""Base for our functional models that create layers before `__init__`."""

import contextlib
import inspect

import keras

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
    """

    def __init__(self, inputs, outputs, **kwargs):
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
