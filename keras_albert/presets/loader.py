"""Turns a preset name or path into models, tokenizers and preprocessors.

Every source is detected by `resolve` and read through one module per
format, each of which names weights by Google's original checkpoint names
(see `weight_layout`):

| source | kind | module |
|---|---|---|
| `"base"`, `"large-v1"`, ... | `named` | `download` (then one below) |
| directory from `save_to_preset` | `keras_albert` | `keras_albert_format` |
| `hf://owner/name[@rev]` | `hf_hub` | `download` + `huggingface` |
| HF folder (`config.json`, weights) | `hf_dir` | `huggingface` |
| Google folder (`albert_config.json`) | `google_dir` | `google_checkpoint` |
| Google `.tar.gz` | `google_tar` | `google_checkpoint` |
| `kaggle://owner/model/keras/variation` | `kaggle` | `download` + `keras_hub_format` |
| KerasHub preset folder | `keras_hub_dir` | `keras_hub_format` |
"""

import hashlib
import inspect
import logging
import os

import keras

from keras_albert.presets import google_checkpoint
from keras_albert.presets import huggingface
from keras_albert.presets import keras_albert_format as kaf
from keras_albert.presets import keras_hub_format
from keras_albert.presets.errors import PresetError
from keras_albert.presets.preset_files import preset_directory
from keras_albert.presets.registry import ALBERT_PRESETS
from keras_albert.presets.registry import canonical_preset_name
from keras_albert.utils import compat

logger = logging.getLogger("keras_albert")

# Readers of the local formats; each has read_backbone_config(dir),
# read_google_arrays(dir) and read_tokenizer(dir).
_READERS = {
    "hf_dir": huggingface,
    "google_dir": google_checkpoint,
    "keras_hub_dir": keras_hub_format,
}
FORMATS = ("keras_albert", "hf", "google")


def describe_sources():
    return (
        "a built-in name (" + ", ".join(sorted(ALBERT_PRESETS)) + "; "
        "'base' means 'base-v2'), 'hf://owner/name', 'kaggle://owner/model/"
        "keras/variation', a Hugging Face folder (config.json + "
        "model.safetensors or pytorch_model.bin), Google's original release "
        "(.tar.gz or its folder with albert_config.json), a KerasHub preset "
        "folder, or a directory written by `save_to_preset`"
    )


def resolve(preset):
    """Detects what `preset` is.

    Returns `(kind, where)`: `("named", name)`, `("keras_albert", dir)`,
    `("hf_dir", dir)`, `("hf_hub", "owner/name[@revision]")`,
    `("google_dir", dir)`, `("google_tar", file)`, `("keras_hub_dir", dir)`
    or `("kaggle", handle)`.
    """
    preset = os.fspath(preset) if isinstance(preset, os.PathLike) else preset
    if not isinstance(preset, str):
        raise PresetError(
            f"A preset must be a name or a path. Received: {preset!r}."
        )
    if preset.startswith("hf://"):
        repo = preset[len("hf://"):].strip("/")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise PresetError(
                f"{preset!r} is not a Hugging Face repo; expected "
                "'hf://owner/name' (optionally '@revision')."
            )
        return "hf_hub", repo
    if preset.startswith("kaggle://"):
        return "kaggle", preset
    if os.path.isdir(preset):
        if kaf.is_keras_albert_preset(preset):
            return "keras_albert", preset
        if keras_hub_format.is_keras_hub_dir(preset):
            return "keras_hub_dir", preset
        if huggingface.is_hf_dir(preset):
            return "hf_dir", preset
        if google_checkpoint.is_google_dir(preset):
            return "google_dir", preset
        config_path = os.path.join(preset, kaf.CONFIG_FILE)
        if os.path.isfile(config_path):
            # Say what is wrong with a damaged config.json instead of
            # calling the folder "not a preset".
            kaf.read_json_object(config_path)
        raise PresetError(
            f"{preset!r} is a directory but not a keras-albert preset, nor "
            "any other ALBERT format (no config.json of ours, KerasHub's or "
            "Hugging Face's, no albert_config.json with a checkpoint). "
            "Expected " + describe_sources() + "."
        )
    if google_checkpoint.is_archive(preset):
        return "google_tar", preset
    if os.path.isfile(preset):
        raise PresetError(
            f"{preset!r} is a file; presets are directories, or Google's "
            ".tar.gz archives. Expected " + describe_sources() + "."
        )
    name = canonical_preset_name(preset)
    if name is not None:
        return "named", name
    raise PresetError(
        f"Unknown preset {preset!r}. Expected " + describe_sources() + "."
    )


def named_config(name, **overrides):
    config = dict(ALBERT_PRESETS[name]["config"])
    config.update(overrides)
    return config


def _extracted_dir(archive):
    """Where a local Google archive is unpacked: keyed by its path, size
    and mtime so a replaced archive is unpacked afresh."""
    from keras_albert.presets import download

    stat = os.stat(archive)
    key = f"{os.path.abspath(archive)}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    stem = os.path.basename(archive).split(".")[0]
    return os.path.join(download.cache_dir(), "extracted",
                        f"{stem}-{digest}")


def localize(preset, cached_only=False):
    """`(kind, folder)` of a readable local copy of `preset`: downloads
    remote and named sources and unpacks archives. With `cached_only`,
    named presets are only looked up in the caches and None is returned
    when they are not there."""
    from keras_albert.presets import download

    kind, where = resolve(preset)
    if kind == "named":
        if cached_only:
            return download.find_cached_named(where)
        return download.fetch_named(where)
    if kind == "hf_hub":
        repo, _, revision = where.partition("@")
        return "hf_dir", download.fetch_hf(repo, revision or None)
    if kind == "kaggle":
        folder = download.fetch_kaggle(where)
        if kaf.is_keras_albert_preset(folder):
            return "keras_albert", folder
        if not keras_hub_format.is_keras_hub_dir(folder):
            raise PresetError(
                f"{where} downloaded to {folder}, which is not a KerasHub "
                "ALBERT preset."
            )
        return "keras_hub_dir", folder
    if kind == "google_tar":
        return "google_dir", google_checkpoint.extract_archive(
            where, _extracted_dir(where)
        )
    return kind, where


def read_source_arrays(kind, folder):
    """`{google_name: array}` of a localized non-keras_albert source."""
    return _READERS[kind].read_google_arrays(folder)


def _report_missing(model, missing, preset, reshaped=()):
    """One log line naming every weight that did not come from `preset`."""
    if not missing:
        return
    absent = [m for m in missing if m not in reshaped]
    parts = []
    if absent:
        parts.append("has no " + ", ".join(absent))
    if reshaped:
        parts.append("has other shapes for " + ", ".join(reshaped))
    logger.warning(
        "%s: %s %s; initialised fresh.",
        type(model).__name__, preset, " and ".join(parts),
    )


def check_backbone_config(backbone_cls, config, source=None,
                          source_keys=None):
    """`config` checked (and normalised) by `backbone_cls.check_config`.

    Args:
        backbone_cls: the backbone class; one without `check_config` takes
            `config` as it is.
        config: dict of backbone arguments.
        source: the file `config` was read from, or None for arguments a
            caller passed (plain ValueErrors then).
        source_keys: `{argument: key in the file}` where the file names
            arguments differently (Hugging Face, Google), so the error names
            the key the user sees.

    Raises:
        PresetError naming `source` and the field, or ValueError.
    """
    check = getattr(backbone_cls, "check_config", None)
    if check is None:
        return dict(config)
    try:
        return check(config)
    except ValueError as e:
        if source is None:
            raise
        key = getattr(e, "key", None)
        spelled = (source_keys or {}).get(key, key)
        where = f" (`{spelled}` in the file)" if spelled != key else ""
        raise PresetError(f"{source}: {e}{where}") from None


def source_backbone_config(backbone_cls, kind, where):
    """Checked backbone arguments of a localized converted source; errors
    name its config file and the key as spelled there."""
    from keras_albert.presets.bert_style_config import SOURCE_KEYS

    reader = _READERS[kind]
    return check_backbone_config(
        backbone_cls, reader.read_backbone_config(where),
        os.path.join(where, reader.CONFIG_FILE),
        SOURCE_KEYS if kind in ("hf_dir", "google_dir") else None,
    )


def load_backbone(backbone_cls, preset, load_weights=True, **overrides):
    """A `backbone_cls` (e.g. `AlbertBackbone`) built from `preset`.

    The class is an argument so that presets, which models import, do not
    import models back.

    Args:
        backbone_cls: the backbone class to build; called with the
            preset's config as keyword arguments (or `from_config` for a
            keras-albert directory).
        preset: anything `resolve` accepts.
        load_weights: bool. Load the preset's weights; `False` gives the
            architecture, randomly initialised.
        **overrides: config values that replace the preset's.
    """
    from keras_albert.presets.weight_layout import assign_google_arrays

    kind, where = resolve(preset)
    overrides = check_backbone_config(backbone_cls, overrides)
    if kind == "named" and not load_weights:
        return backbone_cls(**named_config(where, **overrides))
    if kind != "keras_albert":
        kind, where = localize(preset)
    if kind != "keras_albert":
        backbone = backbone_cls(**dict(
            source_backbone_config(backbone_cls, kind, where), **overrides
        ))
        if load_weights:
            missing = assign_google_arrays(
                backbone, read_source_arrays(kind, where)
            )
            _report_missing(backbone, missing, preset)
        return backbone
    config_path = os.path.join(where, kaf.CONFIG_FILE)
    inner = check_backbone_config(
        backbone_cls, kaf.load_backbone_config(where)["config"], config_path
    )
    inner.update(overrides)
    try:
        backbone = backbone_cls.from_config(inner)
    except (TypeError, ValueError) as e:
        raise PresetError(
            f"{config_path} does not describe an {backbone_cls.__name__}: {e}"
        ) from None
    if load_weights:
        kaf.load_weights_into(
            backbone, os.path.join(where, kaf.MODEL_WEIGHTS_FILE)
        )
    return backbone


def load_tokenizer(preset):
    """The preset's tokenizer, or None when the preset carries none.

    Named presets are looked up in the caches only (loading the model
    first fills them), so asking for a tokenizer never starts a download.
    """
    kind, where = resolve(preset)
    if kind == "keras_albert":
        return kaf.load_tokenizer(where)
    local = localize(preset, cached_only=(kind == "named"))
    if local is None:
        return None
    kind, where = local
    if kind == "keras_albert":
        return kaf.load_tokenizer(where)
    return _READERS[kind].read_tokenizer(where)


def _default_sequence_length(preprocessor_cls):
    """`preprocessor_cls`'s own default `sequence_length`, or None."""
    parameter = inspect.signature(preprocessor_cls.__init__).parameters.get(
        "sequence_length"
    )
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


def checked_sequence_length(sequence_length, max_sequence_length):
    """`sequence_length` as an int, or a ValueError when it is longer than
    the `max_sequence_length` positions of the backbone it feeds.

    Args:
        sequence_length: int. A packing length the caller asked for.
        max_sequence_length: int or None. The backbone's positions; None
            skips the check.
    """
    sequence_length = int(sequence_length)
    if max_sequence_length is not None and (
        sequence_length > max_sequence_length
    ):
        raise ValueError(
            f"sequence_length={sequence_length} is longer than the "
            f"backbone's max_sequence_length={max_sequence_length}: the "
            "model has no position embeddings past that. Ask for at most "
            f"{max_sequence_length}."
        )
    return sequence_length


def build_preprocessor(preprocessor_cls, tokenizer, max_sequence_length=None,
                       saved_config=None, **kwargs):
    """A `preprocessor_cls` on `tokenizer` that never packs longer than the
    backbone accepts.

    Its `sequence_length` is, in this order: `kwargs["sequence_length"]`
    (a ValueError when longer than `max_sequence_length`), the saved one,
    or the class default, the last two capped at `max_sequence_length`.

    Args:
        preprocessor_cls: the preprocessor class to build.
        tokenizer: its `AlbertTokenizer`.
        max_sequence_length: int or None. Positions of the backbone the
            preprocessor feeds; None leaves lengths as they are.
        saved_config: dict of constructor arguments saved with a preset.
        **kwargs: constructor arguments that replace the saved ones.
    """
    config = dict(saved_config or {})
    if "sequence_length" in kwargs:
        kwargs["sequence_length"] = checked_sequence_length(
            kwargs["sequence_length"], max_sequence_length
        )
    elif max_sequence_length is not None:
        length = config.get(
            "sequence_length", _default_sequence_length(preprocessor_cls)
        )
        if length is not None:
            config["sequence_length"] = min(int(length),
                                            int(max_sequence_length))
    config.update(kwargs)
    return preprocessor_cls(tokenizer=tokenizer, **config)


def _saved_preprocessor_config(preset_dir, preprocessor_cls):
    """Constructor arguments of the preprocessor saved in a keras-albert
    directory, when it was saved as `preprocessor_cls`; else `{}`."""
    config_path = os.path.join(preset_dir, kaf.PREPROCESSOR_CONFIG_FILE)
    if not os.path.isfile(config_path):
        return {}
    saved = kaf.read_json_object(config_path, required=("config",))
    # Settings of another preprocessor class (e.g. a classifier preset
    # loaded for QA) do not apply; that class starts from its defaults.
    registered = saved.get("registered_name")
    if registered is not None and registered != (
        keras.saving.get_registered_name(preprocessor_cls)
    ):
        return {}
    config = dict(saved["config"])
    for key in ("tokenizer", "name", "trainable", "dtype"):
        config.pop(key, None)
    return config


def load_preprocessor(preset, preprocessor_cls, max_sequence_length=None,
                      **kwargs):
    """The preset's preprocessor (rebuilt as `preprocessor_cls`), or None
    when the preset has no tokenizer.

    Args:
        preset: anything `resolve` accepts.
        preprocessor_cls: the preprocessor class to build.
        max_sequence_length: int. Positions of the backbone it feeds: the
            packing length is capped there, and an explicit longer
            `sequence_length` raises (see `build_preprocessor`).
        **kwargs: constructor arguments that replace saved settings.
    """
    if preprocessor_cls is None:
        return None
    kind, where = resolve(preset)
    if kind != "keras_albert":
        # Converted sources carry a tokenizer but no preprocessor settings.
        tokenizer = load_tokenizer(preset)
        saved_config = {}
    else:
        tokenizer = kaf.load_tokenizer(where)
        saved_config = _saved_preprocessor_config(where, preprocessor_cls)
    if tokenizer is None:
        return None
    return build_preprocessor(preprocessor_cls, tokenizer,
                              max_sequence_length, saved_config, **kwargs)


def _source_task_defaults(kind, where):
    reader = _READERS[kind]
    if hasattr(reader, "read_task_config"):
        return reader.read_task_config(where)
    return {}


def _drop_mismatched_heads(task, arrays):
    """Drops source heads whose shape differs from the task's (e.g. another
    `num_classes`), so the head starts fresh instead of failing; the
    backbone must still match exactly. Returns `(arrays, dropped)`."""
    import numpy as np

    from keras_albert.presets.weight_layout import model_variables

    dropped = []
    for name, target in model_variables(task).items():
        if name.startswith("bert/") or name not in arrays:
            continue
        variable, transpose = (
            target if isinstance(target, tuple) else (target, None)
        )
        shape = tuple(variable.shape)
        shape = shape[::-1] if transpose else shape
        if tuple(np.shape(arrays[name])) != shape:
            dropped.append(name)
    return {k: v for k, v in arrays.items() if k not in dropped}, dropped


def _load_converted_task(task_cls, backbone_cls, preset, load_weights,
                         backbone_overrides, **kwargs):
    """A task from a Hugging Face, Google or KerasHub source: the backbone
    and every head the source has are loaded; heads it lacks are
    initialised fresh and reported in one log line."""
    from keras_albert.presets.weight_layout import assign_google_arrays

    kind, where = resolve(preset)
    if kind == "named" and not load_weights:
        backbone = backbone_cls(
            **named_config(where, **(backbone_overrides or {}))
        )
        return task_cls(backbone=backbone, **kwargs)
    kind, where = localize(preset)
    if kind == "keras_albert":  # e.g. a kaggle:// handle of our format
        return load_task(task_cls, backbone_cls, where, load_weights,
                         backbone_overrides, **kwargs)
    backbone = backbone_cls(**dict(
        source_backbone_config(backbone_cls, kind, where),
        **check_backbone_config(backbone_cls, backbone_overrides or {}),
    ))
    accepted = inspect.signature(task_cls.__init__).parameters
    for key, value in _source_task_defaults(kind, where).items():
        if key in accepted:
            kwargs.setdefault(key, value)
    if "preprocessor" not in kwargs and task_cls.preprocessor_cls is not None:
        tokenizer = _READERS[kind].read_tokenizer(where)
        kwargs["preprocessor"] = (
            build_preprocessor(task_cls.preprocessor_cls, tokenizer,
                               backbone.max_sequence_length)
            if tokenizer is not None else None
        )
    task = task_cls(backbone=backbone, **kwargs)
    if load_weights:
        arrays, reshaped = _drop_mismatched_heads(
            task, read_source_arrays(kind, where)
        )
        _report_missing(task, assign_google_arrays(task, arrays), preset,
                        reshaped)
    return task


def load_task(task_cls, backbone_cls, preset, load_weights=True,
              backbone_overrides=None, **kwargs):
    """Loads task `task_cls` on a `backbone_cls` backbone from `preset`.

    For a keras-albert directory: the saved task when it is of class
    `task_cls`, else None, so the caller can build a fresh head on top of
    the backbone. For Hugging Face, Google and KerasHub sources (and named
    presets): always a task, with every head the source has loaded and
    the missing ones initialised fresh (reported in one log line).

    Both classes are arguments so that presets import neither models nor
    tasks. A preprocessor built here never packs longer than the
    backbone's `max_sequence_length`.

    Args:
        task_cls: the task class, e.g. `AlbertClassifier`; its
            `preprocessor_cls` is built when the preset has a tokenizer.
        backbone_cls: the backbone class the task wraps.
        preset: anything `resolve` accepts.
        load_weights: bool. Load the preset's weights.
        backbone_overrides: dict of backbone config overrides.
        **kwargs: task constructor arguments.
    """
    kind, where = resolve(preset)
    if kind != "keras_albert":
        return _load_converted_task(
            task_cls, backbone_cls, preset, load_weights,
            backbone_overrides, **kwargs
        )
    task_config = kaf.load_task_config(where)
    if task_config is None:
        return None
    registered = keras.saving.get_registered_name(task_cls)
    if task_config.get("registered_name") != registered:
        return None
    config = dict(task_config["config"])
    saved = {k: v for k, v in config.items()
             if k not in ("backbone", "preprocessor")}
    _check_task_config(task_cls, saved,
                       os.path.join(where, kaf.TASK_CONFIG_FILE))
    config.update(kwargs)
    config["backbone"] = load_backbone(
        backbone_cls, where, load_weights=False, **(backbone_overrides or {})
    )
    if "preprocessor" not in kwargs:
        config["preprocessor"] = load_preprocessor(
            where, task_cls.preprocessor_cls,
            max_sequence_length=config["backbone"].max_sequence_length,
        )
    task_path = os.path.join(where, kaf.TASK_CONFIG_FILE)
    try:
        task = task_cls.from_config(config)
    except (TypeError, ValueError) as e:
        if isinstance(e, PresetError):
            raise
        given = (f" with the arguments {', '.join(sorted(kwargs))}"
                 if kwargs else "")
        raise PresetError(
            f"{task_path}{given} does not describe an {task_cls.__name__}: "
            f"{e}"
        ) from None
    if load_weights:
        kaf.load_weights_into(task, os.path.join(where, kaf.TASK_WEIGHTS_FILE))
    return task


def _check_task_config(task_cls, config, path):
    """Refuses keys of a saved task config that `task_cls` does not take
    (with a did-you-mean suggestion) and values whose type differs from
    the argument's default (`dropout: "x"`), naming the file and key."""
    import numbers

    from keras_albert.utils.config_checks import unknown_keys_message

    parameters = {
        name: p for name, p in inspect.signature(
            task_cls.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    # `quantization`: written by a quantized task (`models/quantization`).
    known = set(parameters) | {"name", "trainable", "dtype", "quantization"}
    unknown = [key for key in config if key not in known]
    if unknown:
        raise PresetError(unknown_keys_message(
            unknown, known, f"{path} ({task_cls.__name__})", noun="key"
        ))
    for key, value in config.items():
        default = parameters[key].default if key in parameters else None
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, numbers.Real):
            ok = isinstance(value, numbers.Real) and not isinstance(
                value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        else:
            continue  # no default to compare with (None, required)
        if not ok:
            raise PresetError(
                f"{path}: `{key}` must be a {type(default).__name__} like its "
                f"default {default!r}; received {value!r}. The file is "
                "damaged; save the preset again."
            )


def save_preset(model, preset_dir, format="keras_albert", tokenizer=None,
                progress=None):
    """Writes `model` (backbone or task) to `preset_dir` as `format`:
    `"keras_albert"` (ours, restores exactly), `"hf"` (a transformers
    folder) or `"google"` (Google's original checkpoint layout).

    `tokenizer` (an `AlbertTokenizer`) is written along when given (for
    a task, in place of its preprocessor's tokenizer), else the task's
    preprocessor's tokenizer when it has one. `progress(n)` is
    called as tensors are written (the CLI's progress bar).

    Every format is written into a temporary sibling and swapped into place
    (`preset_files.preset_directory`): a failure, a full disk included,
    leaves a previous preset in `preset_dir` loadable, and no file of the
    previous preset that the new one lacks (e.g. `task.json` under a
    backbone) stays behind.
    """
    if format not in FORMATS:
        raise ValueError(
            f"Unknown format {format!r}; use one of {', '.join(FORMATS)}."
        )
    if format in ("hf", "google") and any(
        layer.quantization_mode is not None
        for layer in compat.all_layers(model)
    ):
        # Their files hold float kernels; a quantized Dense holds int8
        # values and scales, which would be written as if they were floats.
        raise ValueError(
            f"{type(model).__name__} is quantized (`quantize`); the {format!r} "
            "format holds float weights only. Save the float model in that "
            "format, or this one with format='keras_albert'."
        )
    if format == "hf":
        return huggingface.save_hf_preset(model, preset_dir, tokenizer,
                                          progress)
    if format == "google":
        return google_checkpoint.save_google_checkpoint(
            model, preset_dir, tokenizer, progress
        )
    # Written whole or not at all; files of a previous preset that this
    # one lacks (a task.json under a backbone) go (see `preset_files`).
    with preset_directory(preset_dir) as out:
        if hasattr(model, "backbone"):
            kaf.save_task(model, out)
        else:
            kaf.save_backbone(model, out)
        if tokenizer is not None:
            # Written after the task's preprocessor's, so this one is
            # loaded.
            kaf.save_tokenizer(tokenizer, out)
    if progress is not None:
        progress(len(model.weights))
    return preset_dir
