"""Base for our functional models that create layers before `__init__`."""

import contextlib

import keras

from keras_albert.utils import compat


class FunctionalModel(keras.Model):
    """A `keras.Model` that may set layer attributes before `super().__init__`.

    Our models build their layers, wire them functionally and only then call
    `keras.Model.__init__`. On the torch backend a Model is a
    `torch.nn.Module`, which refuses attribute assignment before its
    `__init__`; the functional graph tracks every layer anyway, so until
    initialisation we set attributes directly.

    On JAX, `fit`, `evaluate` and `predict` keep the model usable when
    they fail (a bad batch, an interrupt): see
    `compat.jax_state_kept_on_error`.
    """

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
