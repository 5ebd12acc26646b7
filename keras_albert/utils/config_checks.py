"""Checks of configuration dicts: unknown keys (with a did-you-mean
suggestion) and the type and range of each value.

A typo in a config key must not be ignored: `{"num_layerz": 2}` would
otherwise train the default 12 layers. Code that reads a config from a
user (a constructor's keyword arguments, a JSON file, a CLI option) asks
these helpers, so every such error reads alike and names the key.

Example:
```python
from keras_albert.utils import config_checks

config_checks.reject_unknown_keys(
    {"num_layerz": 2}, ["num_layers", "num_heads"], "AlbertBackbone")
# ValueError: AlbertBackbone got an unknown argument 'num_layerz' (did
# you mean 'num_layers'?). Known: num_heads, num_layers.
config_checks.positive_int("hidden_dim", -1)
# ConfigValueError: `hidden_dim` must be a positive integer; received -1.
```
"""

import difflib
import numbers


class ConfigValueError(ValueError):
    """A configuration value of the wrong type or out of range.

    Args:
        message: str. The error message (names the key).
        key: str. The offending key, so a caller that read the value under
            another name (a Hugging Face `config.json`) can say which.
    """

    def __init__(self, message, key=None):
        super().__init__(message)
        self.key = key


def suggestion(key, known, cutoff=0.6):
    """The known key `key` most likely misspells, or None."""
    matches = difflib.get_close_matches(str(key), sorted(known), n=1,
                                        cutoff=cutoff)
    return matches[0] if matches else None


def unknown_keys_message(unknown, known, what, noun="argument"):
    """`"<what> got an unknown <noun> 'x' (did you mean 'y'?). Known: ..."`.
    """
    parts = []
    for key in unknown:
        close = suggestion(key, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        parts.append(f"{key!r}{hint}")
    plural = "s" if len(parts) > 1 else ""
    return (
        f"{what} got {'an ' if not plural else ''}unknown {noun}{plural} "
        f"{', '.join(parts)}. Known: {', '.join(sorted(known))}."
    )


def reject_unknown_keys(config, known, what, noun="argument"):
    """Raises a ValueError when `config` has keys outside `known`.

    Args:
        config: a dict (or any iterable of keys).
        known: the accepted keys.
        what: str. What the keys configure, for the message (e.g.
            `"AlbertBackbone"` or `"--backbone-config"`).
        noun: str. What a key is called in the message.
    """
    known = set(known)
    unknown = [key for key in config if key not in known]
    if unknown:
        raise ValueError(unknown_keys_message(unknown, known, what, noun))


def near_misspellings(config, known, targets, cutoff=0.85):
    """`{key: target}` for the keys of `config` that are not `known` but
    nearly spell one of `targets`.

    For configs that legitimately carry many foreign keys (transformers'
    `config.json`): only near-misses of the keys we read are errors.

    Args:
        config: a dict (or any iterable of keys).
        known: every key the caller accepts (read or knowingly ignored).
        targets: the keys whose misspellings are errors.
        cutoff: float. `difflib` similarity a near-miss reaches.
    """
    known = set(known)
    found = {}
    for key in config:
        if key in known or not isinstance(key, str):
            continue
        close = suggestion(key, targets, cutoff)
        if close is not None:
            found[key] = close
    return found


def _received(value):
    return f"received {value!r} ({type(value).__name__})"


def _is_integral(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def is_positive_int(value):
    """True for an integer > 0 (an integral float such as `2.0` counts;
    True does not)."""
    return _is_integral(value) and int(value) >= 1


def positive_int(key, value):
    """`value` as an int > 0, or a ConfigValueError naming `key`."""
    if not is_positive_int(value):
        raise ConfigValueError(
            f"`{key}` must be a positive integer; {_received(value)}.", key
        )
    return int(value)


def probability(key, value):
    """`value` as a float in [0, 1), or a ConfigValueError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
        not 0.0 <= float(value) < 1.0
    ):
        raise ConfigValueError(
            f"`{key}` must be a number in [0, 1); {_received(value)}.", key
        )
    return float(value)


def positive_float(key, value):
    """`value` as a finite float > 0, or a ConfigValueError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
        not 0.0 < float(value) < float("inf")
    ):
        raise ConfigValueError(
            f"`{key}` must be a positive number; {_received(value)}.", key
        )
    return float(value)


def one_of(key, value, choices):
    """`value` when it is one of `choices`, or a ConfigValueError."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigValueError(
            f"`{key}` must be one of {', '.join(map(repr, choices))}; "
            f"{_received(value)}.", key
        )
    return value
