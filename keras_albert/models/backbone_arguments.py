"""The arguments of `AlbertBackbone`: names, types and ranges, checked in
one place.

`AlbertBackbone.__init__` calls `check_backbone_arguments`, so every way of
building a backbone (keyword arguments, `from_config`, a preset's
`config.json`, a Hugging Face or Google config, `--backbone-config`) gets
the same errors: an unknown name with a did-you-mean suggestion, or a bad
value naming its argument, before any layer is built.

Example:
```python
check_backbone_arguments({"hidden_dim": -1, ...})
# ConfigValueError: `hidden_dim` must be a positive integer; received -1
# (int).
```
"""

from keras_albert.layers.activations import get_activation
from keras_albert.layers.shared_transformer_encoder import SHARING_STRATEGIES
from keras_albert.utils import config_checks


def _activation(key, value):
    if callable(value):
        return value
    if not isinstance(value, str):
        raise config_checks.ConfigValueError(
            f"`{key}` must be an activation name or a callable; received "
            f"{value!r} ({type(value).__name__}).", key
        )
    try:
        get_activation(value)
    except ValueError as e:
        raise config_checks.ConfigValueError(f"`{key}`: {e}", key) from None
    return value


def _sharing(key, value):
    return config_checks.one_of(key, value, SHARING_STRATEGIES)


# Argument -> check returning the normalised value (ints as int, ...).
_CHECKS = {
    "vocabulary_size": config_checks.positive_int,
    "num_layers": config_checks.positive_int,
    "num_heads": config_checks.positive_int,
    "embedding_dim": config_checks.positive_int,
    "hidden_dim": config_checks.positive_int,
    "intermediate_dim": config_checks.positive_int,
    "num_hidden_groups": config_checks.positive_int,
    "inner_group_num": config_checks.positive_int,
    "sharing": _sharing,
    "activation": _activation,
    "dropout": config_checks.probability,
    "attention_dropout": config_checks.probability,
    "max_sequence_length": config_checks.positive_int,
    "num_segments": config_checks.positive_int,
    "layer_norm_epsilon": config_checks.positive_float,
    "initializer_range": config_checks.positive_float,
}
# Keyword arguments every Keras model takes (and `get_config` writes).
KERAS_ARGUMENTS = ("name", "trainable", "dtype")
# Written by a quantized backbone's `get_config` (see `quantization`);
# `FunctionalModel` checks and applies it.
QUANTIZATION_ARGUMENT = "quantization"
BACKBONE_ARGUMENTS = tuple(_CHECKS) + KERAS_ARGUMENTS + (
    QUANTIZATION_ARGUMENT,)


def check_backbone_arguments(arguments):
    """Checks `AlbertBackbone` arguments; returns them normalised.

    Args:
        arguments: dict of argument name -> value (a subset is fine: only
            the names present are checked).

    Returns:
        A new dict with integer arguments as `int` (so `2.0` from a JSON
        file becomes `2`) and float arguments as `float`.

    Raises:
        ValueError: an unknown argument name, with a did-you-mean
            suggestion.
        ConfigValueError (a ValueError): a value of the wrong type or out
            of range; its `key` names the argument.
    """
    config_checks.reject_unknown_keys(arguments, BACKBONE_ARGUMENTS,
                                      "AlbertBackbone")
    checked = dict(arguments)
    for key, check in _CHECKS.items():
        if key in checked:
            checked[key] = check(key, checked[key])
    if "name" in checked and not isinstance(checked["name"],
                                            (str, type(None))):
        raise config_checks.ConfigValueError(
            f"`name` must be a string; received {checked['name']!r}.", "name"
        )
    if "trainable" in checked and not isinstance(checked["trainable"], bool):
        raise config_checks.ConfigValueError(
            "`trainable` must be True or False; received "
            f"{checked['trainable']!r}.", "trainable"
        )
    return checked
