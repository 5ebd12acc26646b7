"""Reads and writes Hugging Face `transformers` ALBERT directories.

A Hugging Face ALBERT directory holds `config.json` (`model_type: albert`),
the weights as `model.safetensors` (or `pytorch_model.bin`, possibly sharded
with an `*.index.json`) and the SentencePiece model `spiece.model`. Weights
are translated through Google's original names (`huggingface_names`), so
this module only deals with files, configs and dtypes.

Safety: safetensors is always preferred; `.bin` files are pickles and are
opened only with `torch.load(weights_only=True)`, which refuses anything but
tensors and plain containers.

Example:
```python
from keras_albert.presets import huggingface

config = huggingface.read_backbone_config("albert-base-v2/")
arrays = huggingface.read_google_arrays("albert-base-v2/")
huggingface.save_hf_preset(classifier, "exported/")  # transformers can load
```
"""

import json
import logging
import os
import pickle

import numpy as np

from keras_albert.presets.bert_style_config import (
    backbone_config_from_bert_keys,
)
from keras_albert.presets.bert_style_config import check_keys
from keras_albert.presets.errors import PresetError
from keras_albert.presets.huggingface_names import google_to_hf_state
from keras_albert.presets.huggingface_names import hf_state_to_google
from keras_albert.presets.keras_albert_format import probe_config
from keras_albert.presets.keras_albert_format import read_json_object
from keras_albert.presets.preset_files import preset_directory

logger = logging.getLogger("keras_albert")

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
TORCH_FILE = "pytorch_model.bin"
TORCH_INDEX = "pytorch_model.bin.index.json"
SPIECE_FILE = "spiece.model"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
WEIGHT_FILES = (SAFETENSORS_FILE, SAFETENSORS_INDEX, TORCH_FILE, TORCH_INDEX)

# Our activation names -> transformers' `ACT2FN` names. Google's original
# "gelu" is the tanh approximation, which transformers calls "gelu_new".
_ACT_TO_HF = {
    "gelu_approximate": "gelu_new",
    "gelu": "gelu",
    "relu": "relu",
    "tanh": "tanh",
    "silu": "silu",
    "swish": "swish",
}
_HF_ACTS = {
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "gelu_fast": "gelu_approximate",
    "gelu": "gelu",
    "relu": "relu",
    "tanh": "tanh",
    "silu": "silu",
    "swish": "swish",
}

# transformers' `AlbertConfig` arguments: a near-misspelling of one of these
# in a config.json is an error (see `bert_style_config.check_keys`).
_ALBERT_CONFIG_KEYS = (
    "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
    "num_hidden_groups", "num_attention_heads", "intermediate_size",
    "inner_group_num", "hidden_act", "hidden_dropout_prob",
    "attention_probs_dropout_prob", "max_position_embeddings",
    "type_vocab_size", "initializer_range", "layer_norm_eps",
    "classifier_dropout_prob", "position_embedding_type", "pad_token_id",
    "bos_token_id", "eos_token_id", "num_labels", "id2label", "label2id",
    "architectures", "model_type",
)
# Other keys transformers (4.x and 5.x) writes, Google's research flags
# that it keeps, and BERT's `classifier_dropout`: known, not used here.
_OTHER_CONFIG_KEYS = (
    "_name_or_path", "_commit_hash", "_attn_implementation",
    "transformers_version", "dtype", "torch_dtype", "use_bfloat16",
    "torchscript", "return_dict", "output_attentions",
    "output_hidden_states", "chunk_size_feed_forward", "is_encoder_decoder",
    "is_decoder", "add_cross_attention", "cross_attention_hidden_size",
    "tie_encoder_decoder", "tie_word_embeddings", "pruned_heads",
    "problem_type", "finetuning_task", "task_specific_params",
    "tokenizer_class", "prefix", "sep_token_id", "decoder_start_token_id",
    "max_length", "min_length", "do_sample", "early_stopping", "num_beams",
    "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p",
    "typical_p", "repetition_penalty", "length_penalty",
    "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
    "num_return_sequences", "output_scores", "return_dict_in_generate",
    "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens",
    "begin_suppress_tokens", "gradient_checkpointing", "use_cache",
    "classifier_dropout", "net_structure_type", "gap_size",
    "num_memory_blocks", "down_scale_factor", "layers_to_keep",
)

# transformers' bare encoder; every other ALBERT class holds it under
# `albert.` in its state dict.
_ENCODER_ARCHITECTURE = "AlbertModel"


def is_hf_dir(path):
    """True for a directory with a Hugging Face ALBERT `config.json`."""
    config = probe_config(path)
    if config is None or "registered_name" in config:
        return False  # a Keras (keras_albert / KerasHub) config.json
    archs = config.get("architectures") or []
    return config.get("model_type") == "albert" or any(
        str(a).startswith("Albert") for a in archs
    )


def read_hf_config(path):
    """The raw `config.json` of a Hugging Face directory (a JSON object,
    else PresetError naming the file)."""
    return read_json_object(os.path.join(path, CONFIG_FILE))


def read_label_names(path):
    """The class names of a Hugging Face directory's `id2label`, in id
    order, or None when it has none or only transformers' placeholder
    names (`LABEL_0`, ...)."""
    id2label = read_hf_config(path).get("id2label") or {}
    # JSON object keys are strings: "0", "1", ...
    labels = [id2label.get(str(i)) for i in range(len(id2label))]
    if not labels or all(
        not isinstance(t, str) or t.startswith("LABEL_") for t in labels
    ):
        return None
    return labels


def hf_config_to_backbone_config(config):
    """Translates a transformers `AlbertConfig` dict to `AlbertBackbone`
    arguments, refusing settings our backbone cannot reproduce."""
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise PresetError(
            f"position_embedding_type={position!r} is not supported; "
            "keras-albert implements ALBERT's absolute position embeddings."
        )
    act = config.get("hidden_act", "gelu_new")
    if not isinstance(act, str) or act.lower() not in _HF_ACTS:
        raise PresetError(
            f"hidden_act={act!r} has no keras-albert equivalent. Supported: "
            f"{sorted(_HF_ACTS)}."
        )
    return backbone_config_from_bert_keys(
        config, _HF_ACTS[act.lower()],
        config.get("layer_norm_eps", 1e-12),
        "The Hugging Face config lacks {key}, which ALBERT needs.",
    )


def read_backbone_config(path):
    """`AlbertBackbone` arguments for the Hugging Face directory `path`.

    A key that nearly spells an `AlbertConfig` key (`num_hiden_layers`)
    raises PresetError; other unknown keys are logged at debug level.
    """
    config = read_hf_config(path)
    check_keys(config, os.path.join(path, CONFIG_FILE),
               _ALBERT_CONFIG_KEYS + _OTHER_CONFIG_KEYS, _ALBERT_CONFIG_KEYS)
    return hf_config_to_backbone_config(config)


def read_task_config(path):
    """Task arguments the HF config implies: `{"num_classes": n}` from
    `id2label` / `num_labels` (transformers' default is 2, which recent
    versions leave out of config.json)."""
    config = read_hf_config(path)
    labels = config.get("id2label")
    if isinstance(labels, dict) and labels:
        return {"num_classes": len(labels)}
    return {"num_classes": int(config.get("num_labels", 2))}


# -- weights -------------------------------------------------------------
def _read_safetensors(path):
    from safetensors import safe_open

    state = {}
    try:
        with safe_open(path, framework="np") as f:
            for name in f.keys():
                state[name] = f.get_tensor(name)
    except Exception as e:  # safetensors raises its own, untyped errors
        raise PresetError(
            f"{path} is not a readable safetensors file ({e}). It may be "
            "truncated or corrupted; delete it and download it again."
        ) from None
    return state


def _read_torch_bin(path):
    try:
        import torch
    except ImportError:
        raise PresetError(
            f"{path} is a PyTorch pickle and reading it needs `torch` "
            "(`pip install torch`). Alternatively use a directory with "
            f"{SAFETENSORS_FILE}."
        ) from None
    try:
        # weights_only=True: plain tensors only, never arbitrary objects,
        # so a tampered file cannot run code while we read it.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise PresetError(
            f"Refusing to load {path}: it holds more than tensors and could "
            f"run code when unpickled ({str(e).splitlines()[0]})."
        ) from None
    except Exception as e:
        raise PresetError(
            f"{path} is not a readable PyTorch checkpoint ({e}). It may be "
            "truncated or corrupted; delete it and download it again."
        ) from None
    if not isinstance(state, dict):
        raise PresetError(f"{path} does not hold a state dict.")
    out = {}
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise PresetError(f"{path}: entry {name!r} is not a tensor.")
        if value.dtype in (torch.bfloat16, torch.float16):
            value = value.float()
        out[name] = value.detach().cpu().numpy()
    return out


def _shards(path, index_file):
    index = read_json_object(os.path.join(path, index_file))
    files = sorted(set(index.get("weight_map", {}).values()))
    for name in files:
        full = os.path.normpath(os.path.join(path, name))
        # A shard name must not leave the directory.
        if os.path.dirname(full) != os.path.normpath(path):
            raise PresetError(f"{index_file} names a file outside {path}.")
        if not os.path.isfile(full):
            raise PresetError(f"{index_file} lists {name}, which is missing.")
    return [os.path.join(path, f) for f in files]


def weight_files(path):
    """The weight files of an HF directory, safetensors first."""
    if os.path.isfile(os.path.join(path, SAFETENSORS_FILE)):
        return [os.path.join(path, SAFETENSORS_FILE)]
    if os.path.isfile(os.path.join(path, SAFETENSORS_INDEX)):
        return _shards(path, SAFETENSORS_INDEX)
    if os.path.isfile(os.path.join(path, TORCH_FILE)):
        return [os.path.join(path, TORCH_FILE)]
    if os.path.isfile(os.path.join(path, TORCH_INDEX)):
        return _shards(path, TORCH_INDEX)
    raise PresetError(
        f"{path} has no weights: expected one of {', '.join(WEIGHT_FILES)}."
    )


def read_hf_state(path):
    """`{hf_name: np.ndarray}` from an HF directory's weight files."""
    state = {}
    for file in weight_files(path):
        if file.endswith(".safetensors"):
            state.update(_read_safetensors(file))
        else:
            state.update(_read_torch_bin(file))
    return state


def read_google_arrays(path):
    """All tensors of an HF directory under Google's names.

    Raises `PresetError` listing tensors no ALBERT name matches.
    """
    arrays, unknown = hf_state_to_google(read_hf_state(path))
    if unknown:
        raise PresetError(
            f"{path} holds tensors that are not part of ALBERT:\n  "
            + "\n  ".join(sorted(unknown))
        )
    return arrays


# -- tokenizer -------------------------------------------------------------
def read_tokenizer(path):
    """An `AlbertTokenizer` from `spiece.model`, or None without one."""
    spiece = os.path.join(path, SPIECE_FILE)
    if not os.path.isfile(spiece):
        return None
    from keras_albert.preprocessing import AlbertTokenizer

    options = {}
    tok_config_path = os.path.join(path, TOKENIZER_CONFIG_FILE)
    if os.path.isfile(tok_config_path):
        tok_config = read_json_object(tok_config_path)
        if "do_lower_case" in tok_config:
            options["lowercase"] = bool(tok_config["do_lower_case"])
        if "keep_accents" in tok_config:
            options["strip_accents"] = not bool(tok_config["keep_accents"])
    return AlbertTokenizer(proto=spiece, **options)


# -- writing ---------------------------------------------------------------
def _architecture(model):
    """`(transformers class, encoder prefix in its state)` of `model`, from
    the `hf_architecture` its class declares."""
    arch = getattr(type(model), "hf_architecture", None)
    if arch is None:
        raise PresetError(
            f"{type(model).__name__} has no transformers equivalent, so it "
            "cannot be written with format='hf'."
        )
    return arch, "" if arch == _ENCODER_ARCHITECTURE else "albert."


def backbone_to_hf_config(backbone):
    """A transformers `AlbertConfig` dict for `backbone`."""
    act = backbone.activation
    if act not in _ACT_TO_HF:
        raise PresetError(
            f"activation={act!r} has no transformers equivalent; supported: "
            f"{sorted(_ACT_TO_HF)}."
        )
    return {
        "model_type": "albert",
        "vocab_size": backbone.vocabulary_size,
        "embedding_size": backbone.embedding_dim,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_hidden_groups": backbone.num_hidden_groups,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "inner_group_num": backbone.inner_group_num,
        "hidden_act": _ACT_TO_HF[act],
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.attention_dropout,
        "max_position_embeddings": backbone.max_sequence_length,
        "type_vocab_size": backbone.num_segments,
        "initializer_range": backbone.initializer_range,
        "layer_norm_eps": backbone.layer_norm_epsilon,
        "position_embedding_type": "absolute",
        # ALBERT's SentencePiece specials: <pad>=0, [CLS]=2, [SEP]=3.
        "pad_token_id": 0,
        "bos_token_id": 2,
        "eos_token_id": 3,
        "tie_word_embeddings": True,
        "dtype": "float32",
    }


def model_to_hf_config(model):
    """The full `config.json` (with `architectures`) for a model."""
    from keras_albert.presets import weight_layout

    arch, _ = _architecture(model)
    backbone = getattr(model, "backbone", model)
    config = backbone_to_hf_config(backbone)
    config["architectures"] = [arch]
    # A multiple-choice head scores one option at a time (Dense(1)); it has
    # no labels for transformers to know about.
    if weight_layout.classifier_head(model) is not None and (
        arch != "AlbertForMultipleChoice"
    ):
        num = int(model.head.units)
        # Named labels (a tagger's tags, a classifier's label_names)
        # travel as transformers' id2label.
        names = getattr(model, "labels", None) or getattr(
            model, "label_names", None)
        if not (isinstance(names, (list, tuple)) and len(names) == num):
            names = [f"LABEL_{i}" for i in range(num)]
        config["num_labels"] = num
        config["id2label"] = {str(i): str(n) for i, n in enumerate(names)}
        config["label2id"] = {str(n): i for i, n in enumerate(names)}
        config["classifier_dropout_prob"] = float(
            getattr(model, "dropout", 0.1)
        )
        if num == 1:
            config["problem_type"] = "regression"
        if getattr(model, "activation", None) not in (None, "linear"):
            logger.warning(
                "%s applies activation %r to its logits; transformers' "
                "AlbertForSequenceClassification returns raw logits.",
                type(model).__name__, model.activation,
            )
    return config


def _find_tokenizer(model):
    preprocessor = getattr(model, "preprocessor", None)
    return getattr(preprocessor, "tokenizer", None)


def save_hf_preset(model, preset_dir, tokenizer=None, progress=None):
    """Writes `model` as a Hugging Face directory transformers can load.

    Args:
        model: an `AlbertBackbone`, `AlbertMaskedLM`, `AlbertPretrainer` or
            `AlbertClassifier`.
        preset_dir: output directory (created).
        tokenizer: optional `AlbertTokenizer` whose `spiece.model` to write;
            defaults to the model's preprocessor's tokenizer.
        progress: optional callable `progress(n)` called per written tensor
            (the CLI passes a tqdm `update`).

    The folder is written whole or not at all (see `preset_files`): a
    failure leaves a previous preset in `preset_dir` as it was.

    Example:
    ```python
    save_hf_preset(backbone, "hf_out")
    transformers.AlbertModel.from_pretrained("hf_out")
    ```
    """
    with preset_directory(preset_dir) as out:
        _write_hf_files(model, out, tokenizer, progress)
    return preset_dir


def _write_hf_files(model, preset_dir, tokenizer, progress):
    """The files of `save_hf_preset`, written into the new `preset_dir`."""
    from safetensors.numpy import save_file

    from keras_albert.presets.weight_layout import model_google_arrays

    _, prefix = _architecture(model)
    config = model_to_hf_config(model)
    arrays = model_google_arrays(model)
    state = google_to_hf_state(arrays, prefix=prefix)
    for name, value in state.items():
        # transformers reads float32; mixed-precision variables may be
        # bfloat16/float16 (numpy has no safetensors-friendly bfloat16).
        if value.dtype != np.float32:
            state[name] = value.astype(np.float32)
        if progress is not None:
            progress(1)
    with open(os.path.join(preset_dir, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    # transformers checks this metadata to know the tensors are torch-style.
    save_file(state, os.path.join(preset_dir, SAFETENSORS_FILE),
              metadata={"format": "pt"})
    tokenizer = tokenizer if tokenizer is not None else _find_tokenizer(model)
    if tokenizer is not None and getattr(tokenizer, "proto", None):
        with open(os.path.join(preset_dir, SPIECE_FILE), "wb") as f:
            f.write(tokenizer.proto)
        backbone = getattr(model, "backbone", model)
        tok_config = {
            "tokenizer_class": "AlbertTokenizer",
            "do_lower_case": bool(tokenizer.lowercase),
            "keep_accents": not bool(
                getattr(tokenizer, "strip_accents", tokenizer.lowercase)
            ),
            "remove_space": True,
            "model_max_length": backbone.max_sequence_length,
            "bos_token": "[CLS]",
            "eos_token": "[SEP]",
            "unk_token": "<unk>",
            "sep_token": "[SEP]",
            "pad_token": "<pad>",
            "cls_token": "[CLS]",
            "mask_token": "[MASK]",
        }
        with open(os.path.join(preset_dir, TOKENIZER_CONFIG_FILE), "w",
                  encoding="utf-8") as f:
            json.dump(tok_config, f, indent=2, sort_keys=True)
            f.write("\n")

