"""Turns a preset name or path into models, tokenizers and preprocessors."""

import os

import keras

from keras_albert.presets import keras_albert_format as kaf
from keras_albert.presets.errors import PresetError
from keras_albert.presets.registry import ALBERT_PRESETS
from keras_albert.presets.registry import canonical_preset_name


def describe_sources():
    return (
        "a built-in name (" + ", ".join(sorted(ALBERT_PRESETS)) + "; "
        "'base' means 'base-v2'), or a directory written by `save_to_preset`"
    )


def resolve(preset):
    """Returns `("named", name)` or `("keras_albert", directory)`."""
    preset = os.fspath(preset) if isinstance(preset, os.PathLike) else preset
    if not isinstance(preset, str):
        raise PresetError(
            f"A preset must be a name or a path. Received: {preset!r}."
        )
    if os.path.isdir(preset):
        if kaf.is_keras_albert_preset(preset):
            return "keras_albert", preset
        raise PresetError(
            f"{preset!r} is a directory but not a keras-albert preset (no "
            f"{kaf.CONFIG_FILE} with a keras_albert class). Expected "
            + describe_sources() + "."
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


def _pretrained_unavailable(name):
    sources = ALBERT_PRESETS[name]["sources"]
    return PresetError(
        f"Pretrained weights for preset {name!r} are not available: this "
        "version of keras-albert does not download them yet. Published "
        "sources: " + ", ".join(sources.values()) + ". Use "
        "`load_weights=False` for the randomly initialised architecture, or "
        "pass a directory written by `save_to_preset`."
    )


def load_backbone(preset, load_weights=True, **overrides):
    from keras_albert.models.albert_backbone import AlbertBackbone

    kind, where = resolve(preset)
    if kind == "named":
        if load_weights:
            raise _pretrained_unavailable(where)
        return AlbertBackbone(**named_config(where, **overrides))
    config = kaf.load_backbone_config(where)
    inner = dict(config.get("config", {}))
    inner.update(overrides)
    try:
        backbone = AlbertBackbone.from_config(inner)
    except TypeError as e:
        raise PresetError(
            f"{os.path.join(where, kaf.CONFIG_FILE)} does not describe an "
            f"AlbertBackbone: {e}"
        ) from None
    if load_weights:
        kaf.load_weights_into(
            backbone, os.path.join(where, kaf.MODEL_WEIGHTS_FILE)
        )
    return backbone


def load_tokenizer(preset):
    """The preset's tokenizer, or None when the preset carries none."""
    kind, where = resolve(preset)
    if kind == "named":
        return None
    return kaf.load_tokenizer(where)


def load_preprocessor(preset, preprocessor_cls, **kwargs):
    """The preset's preprocessor (rebuilt as `preprocessor_cls`), or None."""
    kind, where = resolve(preset)
    if kind == "named":
        return None
    config_path = os.path.join(where, kaf.PREPROCESSOR_CONFIG_FILE)
    tokenizer = kaf.load_tokenizer(where)
    if tokenizer is None:
        return None
    config = {}
    if os.path.isfile(config_path):
        config = dict(kaf.read_json(config_path).get("config", {}))
    config.pop("tokenizer", None)
    for key in ("name", "trainable", "dtype"):
        config.pop(key, None)
    config.update(kwargs)
    return preprocessor_cls(tokenizer=tokenizer, **config)


def load_task(cls, preset, load_weights=True, **kwargs):
    """Loads a full task preset when `preset` holds one of class `cls`.

    Returns None when the preset has no matching task, so the caller can
    build a fresh head on top of the backbone.
    """
    kind, where = resolve(preset)
    if kind != "keras_albert":
        return None
    task_config = kaf.load_task_config(where)
    if task_config is None:
        return None
    registered = keras.saving.get_registered_name(cls)
    if task_config.get("registered_name") != registered:
        return None
    config = dict(task_config["config"])
    config.update(kwargs)
    config["backbone"] = load_backbone(where, load_weights=False)
    if "preprocessor" not in kwargs:
        config["preprocessor"] = load_preprocessor(
            where, cls.preprocessor_cls
        )
    task = cls.from_config(config)
    if load_weights:
        kaf.load_weights_into(task, os.path.join(where, kaf.TASK_WEIGHTS_FILE))
    return task
