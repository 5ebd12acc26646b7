"""Activation lookup that understands the names ALBERT configs use."""

import keras


@keras.saving.register_keras_serializable(package="keras_albert")
def gelu_approximate(x):
    """GELU with the tanh approximation, ALBERT's activation.

    Google's original code and Hugging Face's `gelu_new` both use
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`.

    Example:
    >>> gelu_approximate(keras.ops.convert_to_tensor([0.0, 1.0]))
    """
    # Keras' fused op (torch's F.gelu(approximate="tanh"), tf.nn.gelu,
    # jax.nn.gelu) computes exactly this; spelled out in ops it cost eight
    # passes over the FFN activations on torch eager.
    return keras.activations.gelu(x, approximate=True)


# Names from Hugging Face / original configs mapped to Keras callables.
_ALIASES = {
    "gelu_new": gelu_approximate,
    "gelu_pytorch_tanh": gelu_approximate,
    "gelu_approximate": gelu_approximate,
    "gelu_fast": gelu_approximate,
    "gelu": lambda x: keras.activations.gelu(x, approximate=False),
}

_SERIALIZABLE_NAMES = {
    "gelu": "gelu",
    "relu": "relu",
    "tanh": "tanh",
    "swish": "swish",
    "silu": "silu",
}


def canonical_activation_name(activation):
    """Returns the config name an activation is stored under."""
    if activation is gelu_approximate:
        return "gelu_approximate"
    if isinstance(activation, str):
        name = activation.lower()
        if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
            return "gelu_approximate"
        return name
    return keras.activations.serialize(activation)


def get_activation(activation):
    """Resolves an activation name (incl. `gelu_new`) or callable.

    Args:
        activation: a string such as `"gelu_approximate"`, `"gelu_new"`,
            `"gelu"` (exact), `"relu"`, or a callable.

    Raises:
        ValueError: with the list of known names when the name is unknown.
    """
    if callable(activation):
        return activation
    name = str(activation).lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return keras.activations.get(name)
    except (ValueError, TypeError):
        known = sorted(set(_ALIASES) | set(_SERIALIZABLE_NAMES))
        raise ValueError(
            f"Unknown activation {activation!r}. Use one of {known} or a "
            "callable."
        ) from None
