"""Reads (and writes) Google's original ALBERT release format.

Google's archives (`albert_base_v2.tar.gz`, ...) unpack to a folder with
`albert_config.json`, a TF1 checkpoint `model.ckpt-best.{index,data-*}` and
the SentencePiece model `30k-clean.model`. Checkpoint variables carry the
original names (`bert/encoder/transformer/group_0/inner_group_0/...`), which
are the names `weight_layout` already speaks, so reading is a filter over
`tf.train.load_checkpoint`.

Example:
```python
from keras_albert.presets import google_checkpoint

folder = google_checkpoint.extract_archive("albert_base_v2.tar.gz", "out/")
config = google_checkpoint.read_backbone_config(folder)
arrays = google_checkpoint.read_google_arrays(folder)
```
"""

import glob
import json
import os
import re
import tarfile

import numpy as np

from keras_albert.presets.bert_style_config import (
    backbone_config_from_bert_keys,
)
from keras_albert.presets.bert_style_config import check_keys
from keras_albert.presets.errors import PresetError
from keras_albert.presets.keras_albert_format import read_json_object
from keras_albert.presets.preset_files import preset_directory
from keras_albert.presets.weight_layout import CLASSIFIER_BIAS
from keras_albert.presets.weight_layout import CLASSIFIER_KERNEL

CONFIG_FILE = "albert_config.json"
SPIECE_FILES = ("30k-clean.model", "spiece.model")
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")

# Training bookkeeping in released/fine-tuned checkpoints, not weights.
_SLOT_SUFFIXES = (
    "/adam_m", "/adam_v", "/lamb_m", "/lamb_v", "/Momentum", "/Adam",
    "/Adam_1", "/ExponentialMovingAverage",
)
_BOOKKEEPING = {"global_step", "beta1_power", "beta2_power"}
_HEAD_NAMES = {
    "cls/predictions/transform/dense/kernel",
    "cls/predictions/transform/dense/bias",
    "cls/predictions/transform/LayerNorm/gamma",
    "cls/predictions/transform/LayerNorm/beta",
    "cls/predictions/output_bias",
    "cls/seq_relationship/output_weights",
    "cls/seq_relationship/output_bias",
}
# Google's fine-tuning scripts (`classifier_utils.py`) create the
# classification head as top-level `output_weights [num_labels, H]` and
# `output_bias`; they map to our classifier pseudo-names.
_FINETUNED_CLASSIFIER = {
    "output_weights": (CLASSIFIER_KERNEL, True),
    "output_bias": (CLASSIFIER_BIAS, False),
}

# Google's "gelu" is the tanh approximation (modeling.py), not erf GELU.
# The keys of Google's `albert_config.json` (`modeling.AlbertConfig`): a
# near-misspelling of one is an error (see `bert_style_config.check_keys`).
_CONFIG_KEYS = (
    "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
    "num_hidden_groups", "num_attention_heads", "intermediate_size",
    "inner_group_num", "down_scale_factor", "hidden_act",
    "hidden_dropout_prob", "attention_probs_dropout_prob",
    "max_position_embeddings", "type_vocab_size", "initializer_range",
    "net_structure_type", "gap_size", "num_memory_blocks", "layers_to_keep",
)

_GOOGLE_ACTS = {"gelu": "gelu_approximate", "relu": "relu", "tanh": "tanh"}
_ACTS_TO_GOOGLE = {"gelu_approximate": "gelu", "relu": "relu", "tanh": "tanh"}


def is_google_dir(path):
    """True for a folder with `albert_config.json` and a checkpoint."""
    path = str(path)
    return os.path.isfile(os.path.join(path, CONFIG_FILE)) and bool(
        glob.glob(os.path.join(glob.escape(path), "*.index"))
    )


def is_archive(path):
    return os.path.isfile(str(path)) and str(path).lower().endswith(
        TAR_SUFFIXES
    )


def find_release_dir(root):
    """The folder under `root` (itself included) holding
    `albert_config.json`; archives wrap it in a top-level folder."""
    for folder, _, files in sorted(os.walk(root)):
        if CONFIG_FILE in files:
            return folder
    raise PresetError(
        f"{root} holds no {CONFIG_FILE}; it is not an original ALBERT "
        "release."
    )


def read_backbone_config(path):
    """`AlbertBackbone` arguments from `albert_config.json`."""
    config_path = os.path.join(path, CONFIG_FILE)
    config = read_json_object(config_path)
    check_keys(config, config_path, _CONFIG_KEYS, _CONFIG_KEYS)
    # Research variants of the original code that our model does not build.
    for key, default in (("net_structure_type", 0), ("gap_size", 0),
                         ("num_memory_blocks", 0), ("down_scale_factor", 1)):
        if config.get(key, default) not in (default, None):
            raise PresetError(
                f"{config_path}: {key}={config[key]!r} is not supported "
                f"(only the standard ALBERT, {key}={default})."
            )
    if config.get("layers_to_keep"):
        raise PresetError(f"{config_path}: layers_to_keep is not supported.")
    act = str(config.get("hidden_act", "gelu")).lower()
    if act not in _GOOGLE_ACTS:
        raise PresetError(
            f"{config_path}: hidden_act={act!r} is not supported; expected "
            f"one of {sorted(_GOOGLE_ACTS)}."
        )
    # Google's LayerNorm hard-codes epsilon 1e-12.
    return backbone_config_from_bert_keys(
        config, _GOOGLE_ACTS[act], 1e-12, f"{config_path} lacks {{key}}."
    )


def checkpoint_prefix(path):
    """The checkpoint to read: `model.ckpt-best` when present (what Google
    released), else the one with the highest step."""
    indexes = glob.glob(os.path.join(glob.escape(path), "*.index"))
    if not indexes:
        raise PresetError(f"{path} holds no TF checkpoint (*.index).")
    prefixes = [i[: -len(".index")] for i in indexes]
    for prefix in prefixes:
        if os.path.basename(prefix) == "model.ckpt-best":
            return prefix

    def step(prefix):
        match = re.search(r"-(\d+)$", prefix)
        return int(match.group(1)) if match else -1

    return max(prefixes, key=step)


def _is_bookkeeping(name):
    return name in _BOOKKEEPING or name.endswith(_SLOT_SUFFIXES)


def read_google_arrays(path):
    """`{google_name: np.ndarray}` from the folder's checkpoint.

    Optimizer slots and `global_step` are skipped; anything else that is
    not an ALBERT weight raises `PresetError` with its name and shape.
    """
    import tensorflow as tf

    prefix = checkpoint_prefix(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as e:
        raise PresetError(
            f"Could not open the checkpoint {prefix}: "
            f"{str(e).splitlines()[0]}. It may be truncated or corrupted."
        ) from None
    arrays, unexpected = {}, []
    for name in sorted(shapes):
        if _is_bookkeeping(name):
            continue
        if name in _FINETUNED_CLASSIFIER:
            target, transpose = _FINETUNED_CLASSIFIER[name]
        elif name.startswith("bert/") or name in _HEAD_NAMES:
            target, transpose = name, False
        else:
            unexpected.append(f"{name}: checkpoint {tuple(shapes[name])}")
            continue
        try:
            value = np.asarray(reader.get_tensor(name))
        # A short data file surfaces as IndexError ("Read less bytes").
        except (tf.errors.OpError, ValueError, IndexError) as e:
            raise PresetError(
                f"Could not read {name!r} from {prefix}: "
                f"{str(e).splitlines()[0]}. The checkpoint may be truncated "
                "or corrupted."
            ) from None
        arrays[target] = value.T if transpose else value
    if unexpected:
        raise PresetError(
            f"{prefix} holds tensors that are not part of ALBERT:\n  "
            + "\n  ".join(unexpected)
        )
    return arrays


def read_task_config(path):
    """`{"num_classes": n}` when the checkpoint holds a fine-tuned
    classification head (`output_bias` of shape `[n]`)."""
    import tensorflow as tf

    try:
        shapes = tf.train.load_checkpoint(
            checkpoint_prefix(path)
        ).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError):
        return {}  # read_google_arrays reports the broken checkpoint
    if "output_bias" in shapes and len(shapes["output_bias"]) == 1:
        return {"num_classes": int(shapes["output_bias"][0])}
    return {}


def read_tokenizer(path):
    """An `AlbertTokenizer` from `30k-clean.model`, or None."""
    from keras_albert.preprocessing import AlbertTokenizer

    for name in SPIECE_FILES:
        spiece = os.path.join(path, name)
        if os.path.isfile(spiece):
            # The released English models lower-case their input.
            return AlbertTokenizer(proto=spiece, lowercase=True)
    return None


# -- archives --------------------------------------------------------------
def _check_member(member, dest):
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in parts:
        raise PresetError(
            f"Refusing to extract {name!r}: it points outside the target "
            "folder."
        )
    if not (member.isfile() or member.isdir()):
        # Links and devices could write or read outside `dest`; ALBERT
        # releases contain only regular files and folders.
        raise PresetError(
            f"Refusing to extract {name!r}: only regular files and folders "
            "are allowed in an ALBERT archive."
        )
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([target, os.path.realpath(dest)]) != (
        os.path.realpath(dest)
    ):
        raise PresetError(f"Refusing to extract {name!r} outside {dest}.")


def extract_archive(archive, dest):
    """Safely unpacks a release `.tar.gz` into `dest`; returns the folder
    holding `albert_config.json`.

    Every member is checked before anything is written: absolute paths,
    `..`, links and special files are refused (path traversal). The archive
    is unpacked into a temporary sibling and renamed, so an interrupted
    extraction never looks complete.
    """
    import shutil
    import tempfile

    dest = os.path.abspath(dest)
    if os.path.isdir(dest):
        return find_release_dir(dest)
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extract-", dir=parent)
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member, tmp)
                # The "data" filter (Python >= 3.11.4) re-checks the same
                # rules inside tarfile itself.
                kwargs = {"filter": "data"} if hasattr(
                    tarfile, "data_filter"
                ) else {}
                tar.extractall(tmp, members=members, **kwargs)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise PresetError(
                f"Could not extract {archive}: {e}. The archive may be "
                "truncated or corrupted; delete it and download it again."
            ) from None
        find_release_dir(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return find_release_dir(dest)


# -- writing ---------------------------------------------------------------
def backbone_to_google_config(backbone):
    act = backbone.activation
    if act not in _ACTS_TO_GOOGLE:
        raise PresetError(
            f"activation={act!r} cannot be written to albert_config.json; "
            f"supported: {sorted(_ACTS_TO_GOOGLE)}."
        )
    return {
        "attention_probs_dropout_prob": backbone.attention_dropout,
        "hidden_act": _ACTS_TO_GOOGLE[act],
        "hidden_dropout_prob": backbone.dropout,
        "embedding_size": backbone.embedding_dim,
        "hidden_size": backbone.hidden_dim,
        "initializer_range": backbone.initializer_range,
        "intermediate_size": backbone.intermediate_dim,
        "max_position_embeddings": backbone.max_sequence_length,
        "num_attention_heads": backbone.num_heads,
        "num_hidden_layers": backbone.num_layers,
        "num_hidden_groups": backbone.num_hidden_groups,
        "net_structure_type": 0,
        "layers_to_keep": [],
        "gap_size": 0,
        "num_memory_blocks": 0,
        "inner_group_num": backbone.inner_group_num,
        "down_scale_factor": 1,
        "type_vocab_size": backbone.num_segments,
        "vocab_size": backbone.vocabulary_size,
    }


def save_google_checkpoint(model, out_dir, tokenizer=None, progress=None):
    """Writes `model` in Google's release layout (`albert_config.json`,
    `model.ckpt-best.*`, `30k-clean.model` when a tokenizer is known).

    The classification head, which Google's release lacks, is written
    under the fine-tuning scripts' `output_weights`/`output_bias`.

    The folder is written whole or not at all (see `preset_files`): a
    failure leaves a previous checkpoint in `out_dir` as it was.

    Example:
    ```python
    save_google_checkpoint(backbone, "google_out")
    ```
    """
    with preset_directory(out_dir) as tmp:
        _write_google_files(model, tmp, tokenizer, progress)
    return out_dir


def _write_google_files(model, out_dir, tokenizer, progress):
    """The files of `save_google_checkpoint`, written into the new
    `out_dir`."""
    import tensorflow as tf

    from keras_albert.presets.weight_layout import model_google_arrays

    backbone = getattr(model, "backbone", model)
    with open(os.path.join(out_dir, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(backbone_to_google_config(backbone), f, indent=2)
        f.write("\n")
    arrays = model_google_arrays(model)
    names, tensors = [], []
    reverse = {v[0]: (k, v[1]) for k, v in _FINETUNED_CLASSIFIER.items()}
    for name in sorted(arrays):
        value = np.asarray(arrays[name], dtype=np.float32)
        if name in reverse:
            name, transpose = reverse[name]
            value = value.T if transpose else value
        names.append(name)
        tensors.append(tf.constant(value))
        if progress is not None:
            progress(1)
    prefix = os.path.join(out_dir, "model.ckpt-best")
    tf.raw_ops.SaveV2(
        prefix=prefix, tensor_names=names,
        shape_and_slices=[""] * len(names), tensors=tensors,
    )
    with open(os.path.join(out_dir, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "model.ckpt-best"\n')
    preprocessor = getattr(model, "preprocessor", None)
    tokenizer = tokenizer or getattr(preprocessor, "tokenizer", None)
    if tokenizer is not None and getattr(tokenizer, "proto", None):
        with open(os.path.join(out_dir, SPIECE_FILES[0]), "wb") as f:
            f.write(tokenizer.proto)
