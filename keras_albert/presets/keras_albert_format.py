"""keras-albert's own preset directory format.

```
preset_dir/
  config.json            backbone class + config
  model.weights.h5       backbone weights
  task.json              task class + config (task presets only)
  task.weights.h5        all task weights (task presets only)
  preprocessor.json      preprocessor config (when there is one)
  tokenizer.json         tokenizer config
  assets/tokenizer/      the SentencePiece model (spiece.model)
  spiece.model           read when there is no tokenizer.json (e.g. copied
                         in by hand, as Google and Hugging Face ship it)
  metadata.json          versions and parameter count
```
The layout mirrors KerasHub's so the same habits work with both.
"""

import datetime
import io
import json
import os

import keras

from keras_albert.presets.errors import PresetError
from keras_albert.utils import compat
from keras_albert.version import __version__

CONFIG_FILE = "config.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
TASK_CONFIG_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
TOKENIZER_CONFIG_FILE = "tokenizer.json"
TOKENIZER_ASSETS_DIR = os.path.join("assets", "tokenizer")
# A SentencePiece model placed in the folder itself, without tokenizer.json.
PLAIN_TOKENIZER_FILE = "spiece.model"
METADATA_FILE = "metadata.json"


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def read_json(path):
    """Reads a JSON file; unreadable or invalid files raise PresetError."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise PresetError(f"{path} is not valid JSON: {e}") from None
    except OSError as e:
        raise PresetError(f"Could not read {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise PresetError(
            f"{path} is not valid JSON (not UTF-8: {e})."
        ) from None


def read_json_object(path, required=()):
    """Reads a JSON file that must hold an object, with each key of
    `required` holding an object too; anything else raises PresetError
    naming the file and the field."""
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise PresetError(
            f"{path} must hold a JSON object; it holds a "
            f"{type(obj).__name__}. The file is damaged; save the preset "
            "again."
        )
    for key in required:
        if not isinstance(obj.get(key), dict):
            found = ("no" if key not in obj
                     else f"a {type(obj[key]).__name__}, not an object, as")
            raise PresetError(
                f"{path} has {found} `{key}` field; a preset's {key} is a "
                "JSON object. The file is damaged; save the preset again."
            )
    return obj


def probe_config(path):
    """The dict in `path/config.json`, or None when there is none or it is
    unreadable; format detectors use it to tell preset folders apart."""
    config_path = os.path.join(str(path), CONFIG_FILE)
    if not os.path.isfile(config_path):
        return None
    try:
        config = read_json(config_path)
    except PresetError:
        return None
    return config if isinstance(config, dict) else None


def is_keras_albert_preset(path):
    """True when `path` is a directory written by `save_to_preset`."""
    config = probe_config(path)
    return config is not None and str(
        config.get("registered_name", "")
    ).startswith("keras_albert>")


def save_weights(model, path):
    """`model.save_weights(path)`, serialised in memory first: HDF5 crashes
    the process (SIGSEGV in h5py's `close`) when a write fails half-way,
    e.g. on a full disk, while a plain Python write raises OSError."""
    buffer = io.BytesIO()
    compat.save_weights_h5(model, buffer)
    with open(path, "wb") as f:
        f.write(buffer.getbuffer())


def save_backbone(backbone, preset_dir):
    os.makedirs(preset_dir, exist_ok=True)
    _write_json(
        os.path.join(preset_dir, CONFIG_FILE),
        keras.saving.serialize_keras_object(backbone),
    )
    save_weights(backbone, os.path.join(preset_dir, MODEL_WEIGHTS_FILE))
    _write_json(
        os.path.join(preset_dir, METADATA_FILE),
        {
            "keras_albert_version": __version__,
            "keras_version": keras.__version__,
            "parameter_count": int(backbone.count_params()),
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M"),
        },
    )


def save_tokenizer(tokenizer, preset_dir):
    os.makedirs(preset_dir, exist_ok=True)
    assets = os.path.join(preset_dir, TOKENIZER_ASSETS_DIR)
    os.makedirs(assets, exist_ok=True)
    tokenizer.save_assets(assets)
    _write_json(
        os.path.join(preset_dir, TOKENIZER_CONFIG_FILE),
        keras.saving.serialize_keras_object(tokenizer),
    )


def save_preprocessor(preprocessor, preset_dir):
    save_tokenizer(preprocessor.tokenizer, preset_dir)
    _write_json(
        os.path.join(preset_dir, PREPROCESSOR_CONFIG_FILE),
        keras.saving.serialize_keras_object(preprocessor),
    )


def save_task(task, preset_dir):
    save_backbone(task.backbone, preset_dir)
    if task.preprocessor is not None:
        save_preprocessor(task.preprocessor, preset_dir)
    _write_json(
        os.path.join(preset_dir, TASK_CONFIG_FILE),
        keras.saving.serialize_keras_object(task),
    )
    save_weights(task, os.path.join(preset_dir, TASK_WEIGHTS_FILE))


def load_backbone_config(preset_dir):
    """The saved backbone entry: `{"registered_name": ..., "config": {...}}`.
    """
    return read_json_object(os.path.join(preset_dir, CONFIG_FILE),
                            required=("config",))


def load_weights_into(model, path):
    if not os.path.isfile(path):
        raise PresetError(f"Missing weights file {path}.")
    try:
        model.load_weights(path)
    except (ValueError, OSError, KeyError) as e:
        raise PresetError(
            f"Could not load {path} into {type(model).__name__}: {e}"
        ) from e


def load_tokenizer(preset_dir):
    """The preset's tokenizer, or None when it has none.

    `tokenizer.json` with `assets/tokenizer/spiece.model` (what
    `save_to_preset` writes), else a plain `spiece.model` in the folder
    (how Google's and Hugging Face's releases ship it, e.g. copied in by
    hand), read with ALBERT's defaults: lower-cased, accents stripped.
    """
    config_path = os.path.join(preset_dir, TOKENIZER_CONFIG_FILE)
    if not os.path.isfile(config_path):
        plain = os.path.join(preset_dir, PLAIN_TOKENIZER_FILE)
        if not os.path.isfile(plain):
            return None
        from keras_albert.preprocessing.albert_tokenizer import (
            AlbertTokenizer,
        )

        return AlbertTokenizer(proto=plain)
    try:
        tokenizer = keras.saving.deserialize_keras_object(
            read_json_object(config_path, required=("config",)))
    except (TypeError, ValueError, KeyError) as e:
        if isinstance(e, PresetError):
            raise
        raise PresetError(
            f"{config_path} does not describe a tokenizer: {e}") from None
    tokenizer.load_assets(os.path.join(preset_dir, TOKENIZER_ASSETS_DIR))
    return tokenizer


def load_preprocessor(preset_dir):
    """The preset's preprocessor, or None when it has none."""
    config_path = os.path.join(preset_dir, PREPROCESSOR_CONFIG_FILE)
    if not os.path.isfile(config_path):
        return None
    config = read_json(config_path)
    tokenizer = load_tokenizer(preset_dir)
    preprocessor = keras.saving.deserialize_keras_object(config)
    preprocessor.tokenizer = tokenizer
    return preprocessor


def load_task_config(preset_dir):
    """The saved task entry (`registered_name`, `config`), or None."""
    path = os.path.join(preset_dir, TASK_CONFIG_FILE)
    if not os.path.isfile(path):
        return None
    return read_json_object(path, required=("config",))
