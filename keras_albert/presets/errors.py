"""Errors raised while resolving and loading presets."""


class PresetError(ValueError):
    """A preset could not be found, read or matched to the model."""
