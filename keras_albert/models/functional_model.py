"""Base for our functional models that create layers before `__init__`."""

import keras


class FunctionalModel(keras.Model):
    """A `keras.Model` that may set layer attributes before `super().__init__`.

    Our models build their layers, wire them functionally and only then call
    `keras.Model.__init__`. On the torch backend a Model is a
    `torch.nn.Module`, which refuses attribute assignment before its
    `__init__`; the functional graph tracks every layer anyway, so until
    initialisation we set attributes directly.
    """

    def __setattr__(self, name, value):
        if keras.backend.backend() == "torch" and "_tracker" not in (
            self.__dict__
        ):
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)
