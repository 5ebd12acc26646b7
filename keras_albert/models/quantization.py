"""Keras quantization (`model.quantize("int8")`) of our models, saved and
restored with them.

Keras' `Model.quantize` converts every leaf layer that implements
`quantize` (here: every `Dense`: the embedding projection, the query, key,
value and output projections and both feed-forward layers of each shared
block, the pooler and the task heads). A block shared by several layers is
one layer object, so it is quantized once. What stays float: the embedding
tables (gathers, not matmuls; the masked-LM decoder is tied to the token
table), LayerNorms, and the attention itself (QK^T, softmax, AV).

Our layers build their sublayers in `__init__` from their own config, not
from the sublayers' configs, so a model rebuilt from its config is float.
`quantized_layers(model)` records which layers were quantized (by
`Layer.path`, with their dtype policy names); models write it into their
config under `QUANTIZATION_KEY` and `restore_quantization` quantizes the same
layers of a rebuilt model before its weights are loaded, so `.keras` files
and presets of quantized models load as they were saved.

Example:
```python
classifier.quantize("int8")
record = quantized_layers(classifier)
# {"embeddings/projection": "int8_from_float32", ...}
rebuilt = AlbertClassifier.from_config(classifier.get_config())
# `rebuilt` is quantized the same way: its config holds `record`.
```
"""

import keras

from keras_albert.utils import compat

# The config key (of backbones and tasks) holding `quantized_layers`.
QUANTIZATION_KEY = "quantization"


def has_quantizable_weights(layer):
    """True for a layer whose class implements Keras' `quantize` (`Dense`,
    `EinsumDense`, `Embedding`, ...); LayerNorm, Dropout and input layers
    keep the base method, which only raises (and `Model.quantize` would
    warn once per such layer)."""
    return type(layer).quantize is not keras.layers.Layer.quantize


def quantized_layers(model):
    """`{layer path: dtype policy name}` of every quantized layer of
    `model` (e.g. `{"pooler": "int8_from_float32"}`); empty when none."""
    record = {}
    for layer in compat.all_layers(model):
        if layer.quantization_mode is not None and layer.path:
            record[layer.path] = layer.dtype_policy.name
    return record


def is_quantized(model):
    """True when any layer of `model` is quantized."""
    return any(layer.quantization_mode is not None
               for layer in compat.all_layers(model))


def config_entry(model):
    """`{QUANTIZATION_KEY: quantized_layers(model)}` for a quantized model,
    `{}` for a float one (whose config stays as it was)."""
    record = quantized_layers(model)
    return {QUANTIZATION_KEY: record} if record else {}


def check_record(record):
    """`record` (a saved `quantized_layers` dict) checked; a ValueError
    names what is wrong."""
    if not isinstance(record, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in record.items()
    ):
        raise ValueError(
            f"`{QUANTIZATION_KEY}` must map layer paths to dtype policy "
            f"names, e.g. {{'pooler': 'int8_from_float32'}}. Received: "
            f"{record!r}."
        )
    return record


def restore_quantization(model, record):
    """Quantizes the layers of `model` named in `record` (from
    `quantized_layers`) that are not quantized yet, in place.

    Raises:
        ValueError: `record` names a layer `model` does not have, or one
            that Keras' default quantization of its mode does not give the
            saved policy (a model quantized with a custom config).
    """
    check_record(record)
    layers = {layer.path: layer for layer in compat.all_layers(model)
              if layer.path}
    missing = sorted(set(record) - set(layers))
    if missing:
        raise ValueError(
            f"The saved `{QUANTIZATION_KEY}` names layers this "
            f"{type(model).__name__} does not have: {missing}. It was saved "
            "from a different architecture."
        )
    modes = {}
    for path, policy in record.items():
        mode = keras.dtype_policies.get(policy).quantization_mode
        if mode is None:
            raise ValueError(
                f"The saved `{QUANTIZATION_KEY}` gives layer {path!r} the "
                f"policy {policy!r}, which is not a quantized one."
            )
        if layers[path].quantization_mode is None:
            modes.setdefault(mode, set()).add(path)
    for mode, paths in modes.items():
        model.quantize(mode, filters=lambda layer, paths=paths: (
            layer.path in paths
        ))
    for path, policy in record.items():
        got = layers[path].dtype_policy.name
        # "int8_from_float32" -> "int8", "int4/128_from_float32" ->
        # "int4/128": the source dtype may differ (a `dtype` override).
        if got.split("_from_")[0] != policy.split("_from_")[0]:
            raise ValueError(
                f"Layer {path!r} was saved with the dtype policy {policy!r}"
                f"; quantizing it again gave {got!r}. keras-albert restores "
                "Keras' default quantization of each mode only; quantize "
                "the loaded float model with your config instead."
            )
