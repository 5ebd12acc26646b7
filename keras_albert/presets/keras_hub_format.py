"""Reads KerasHub (`keras_hub.models.AlbertBackbone`) preset directories.

KerasHub presets (local folders or the `kaggle://keras/albert/...` handles)
hold `config.json` (`registered_name: keras_hub>AlbertBackbone`),
`model.weights.h5`, and the SentencePiece model under
`assets/tokenizer/vocabulary.spm`; task presets add `task.json` and
`task.weights.h5`. Rather than re-implement KerasHub's weight-file layout,
KerasHub itself restores its model, and its variables are then named by
Google's original names (the `weight_layout` convention) by walking its
layers. KerasHub is only a reader of its own format here.

Example:
```python
from keras_albert.presets import keras_hub_format

config = keras_hub_format.read_backbone_config("albert_base_en_uncased/")
arrays = keras_hub_format.read_google_arrays("albert_base_en_uncased/")
```
"""

import os

import numpy as np

from keras_albert.presets.errors import PresetError
from keras_albert.presets.weight_layout import CLASSIFIER_BIAS
from keras_albert.presets.weight_layout import CLASSIFIER_KERNEL
from keras_albert.presets.keras_albert_format import probe_config
from keras_albert.presets.bert_style_config import check_keys
from keras_albert.presets.keras_albert_format import read_json as _read_json
from keras_albert.presets.keras_albert_format import read_json_object
from keras_albert.utils import compat

CONFIG_FILE = "config.json"
TASK_CONFIG_FILE = "task.json"
VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.spm")
BACKBONE_NAME = "keras_hub>AlbertBackbone"
CLASSIFIER_NAME = "keras_hub>AlbertTextClassifier"


# KerasHub's `AlbertBackbone.get_config()` keys.
_BACKBONE_KEYS = (
    "vocabulary_size", "num_layers", "num_heads", "num_groups",
    "num_inner_repetitions", "embedding_dim", "hidden_dim",
    "intermediate_dim", "dropout", "max_sequence_length", "num_segments",
    "name", "trainable", "dtype",
)


def is_keras_hub_dir(path):
    """True for a KerasHub ALBERT preset directory."""
    config = probe_config(path)
    return config is not None and (
        config.get("registered_name") == BACKBONE_NAME
    )


def read_backbone_config(path):
    """`AlbertBackbone` arguments from a KerasHub backbone `config.json`."""
    config_path = os.path.join(path, CONFIG_FILE)
    config = read_json_object(config_path, required=("config",))["config"]
    check_keys(config, config_path, _BACKBONE_KEYS, _BACKBONE_KEYS)
    try:
        num_layers = int(config["num_layers"])
        groups = int(config.get("num_groups", 1))
        if num_layers % groups:
            raise PresetError(
                f"{path}: num_layers={num_layers} is not a multiple of "
                f"num_groups={groups}."
            )
        return dict(
            vocabulary_size=int(config["vocabulary_size"]),
            num_layers=num_layers,
            num_heads=int(config["num_heads"]),
            embedding_dim=int(config["embedding_dim"]),
            hidden_dim=int(config["hidden_dim"]),
            intermediate_dim=int(config["intermediate_dim"]),
            # KerasHub runs group g for layers [g*L/G, (g+1)*L/G), which is
            # Google's `int(i / L * G)` when G divides L (checked above).
            num_hidden_groups=groups,
            inner_group_num=int(config.get("num_inner_repetitions", 1)),
            # KerasHub hard-codes these three for ALBERT.
            activation="gelu_approximate",
            layer_norm_epsilon=1e-12,
            dropout=float(config.get("dropout", 0.0)),
            attention_dropout=float(config.get("dropout", 0.0)),
            max_sequence_length=int(config.get("max_sequence_length", 512)),
            num_segments=int(config.get("num_segments", 2)),
        )
    except KeyError as e:
        raise PresetError(
            f"{path}/{CONFIG_FILE} lacks {e.args[0]!r}."
        ) from None
    except (TypeError, ValueError) as e:
        if isinstance(e, PresetError):
            raise
        raise PresetError(f"{config_path}: a value is not a number ({e}).") \
            from None


def _numpy(variable):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable))


def _dense(layer, name, out):
    # KerasHub's attention projections are EinsumDense with kernels
    # [H, heads, head_dim] (query/key/value) or [heads, head_dim, H]
    # (output); Google's dense kernels are [in, out]. The input axis is
    # first in both, so merging the head axes is a plain reshape.
    kernel = _numpy(layer.kernel)
    if kernel.ndim == 3:
        is_output = name.endswith("attention_1/output/dense")
        kernel = (kernel.reshape(-1, kernel.shape[-1]) if is_output
                  else kernel.reshape(kernel.shape[0], -1))
    out[name + "/kernel"] = kernel
    out[name + "/bias"] = _numpy(layer.bias).reshape(-1)


def backbone_google_arrays(backbone):
    """`{google_name: np.ndarray}` for a `keras_hub` `AlbertBackbone`."""
    out = {
        "bert/embeddings/word_embeddings":
            _numpy(backbone.token_embedding.embeddings),
        "bert/embeddings/position_embeddings":
            _numpy(backbone.position_embedding.position_embeddings),
        "bert/embeddings/token_type_embeddings":
            _numpy(backbone.segment_embedding.embeddings),
        "bert/embeddings/LayerNorm/gamma":
            _numpy(backbone.embeddings_layer_norm.gamma),
        "bert/embeddings/LayerNorm/beta":
            _numpy(backbone.embeddings_layer_norm.beta),
    }
    _dense(backbone.embeddings_projection,
           "bert/encoder/embedding_hidden_mapping_in", out)
    _dense(backbone.pooled_dense, "bert/pooler/dense", out)
    for g, group in enumerate(backbone.transformer_layers):
        for k, layer in enumerate(group):
            prefix = f"bert/encoder/transformer/group_{g}/inner_group_{k}/"
            sublayers = compat.transformer_encoder_sublayers(layer)
            attention = sublayers["attention"]
            for part, dense in (
                ("attention_1/self/query", attention.query_dense),
                ("attention_1/self/key", attention.key_dense),
                ("attention_1/self/value", attention.value_dense),
                ("attention_1/output/dense", attention.output_dense),
                ("ffn_1/intermediate/dense",
                 sublayers["intermediate_dense"]),
                ("ffn_1/intermediate/output/dense",
                 sublayers["output_dense"]),
            ):
                _dense(dense, prefix + part, out)
            for part, norm in (
                ("LayerNorm", sublayers["attention_layer_norm"]),
                ("LayerNorm_1", sublayers["feedforward_layer_norm"]),
            ):
                out[prefix + part + "/gamma"] = _numpy(norm.gamma)
                out[prefix + part + "/beta"] = _numpy(norm.beta)
    return out


def _task_name(path):
    task_path = os.path.join(path, TASK_CONFIG_FILE)
    if not os.path.isfile(task_path):
        return None
    return _read_json(task_path).get("registered_name")


def read_google_arrays(path):
    """Weights of the KerasHub preset under Google's names; a saved
    `AlbertTextClassifier` head comes out as `classifier/*`."""
    try:
        import keras_hub
    except ImportError:
        raise PresetError(
            f"{path} is a KerasHub preset; reading it needs `keras-hub` "
            "(`pip install keras-hub`)."
        ) from None
    try:
        if _task_name(path) == CLASSIFIER_NAME:
            task = keras_hub.models.AlbertTextClassifier.from_preset(
                path, preprocessor=None
            )
            arrays = backbone_google_arrays(task.backbone)
            arrays[CLASSIFIER_KERNEL] = _numpy(task.output_dense.kernel)
            arrays[CLASSIFIER_BIAS] = _numpy(task.output_dense.bias)
            return arrays
        backbone = keras_hub.models.AlbertBackbone.from_preset(path)
    except (ValueError, OSError, KeyError) as e:
        raise PresetError(
            f"KerasHub could not load the preset {path}: {e}"
        ) from None
    return backbone_google_arrays(backbone)


def read_task_config(path):
    """`{"num_classes": n}` for a saved KerasHub text classifier."""
    if _task_name(path) != CLASSIFIER_NAME:
        return {}
    config = _read_json(os.path.join(path, TASK_CONFIG_FILE)).get("config", {})
    return {"num_classes": int(config["num_classes"])} if (
        "num_classes" in config
    ) else {}


def read_tokenizer(path):
    """An `AlbertTokenizer` over the preset's `vocabulary.spm`, or None."""
    spm = os.path.join(path, VOCABULARY_FILE)
    if not os.path.isfile(spm):
        return None
    from keras_albert.preprocessing import AlbertTokenizer

    # KerasHub's ALBERT presets are the uncased English release.
    return AlbertTokenizer(proto=spm, lowercase=True)
