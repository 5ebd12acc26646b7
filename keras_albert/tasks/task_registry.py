"""Every model class by name, derived from the classes themselves.

The backbone and the registered task classes (see `AlbertTask`) carry their
CLI name, their `transformers` architecture and their KerasHub names; the
CLI, the converters and the exporters look models up here instead of
keeping lists of their own.
"""

import os

import keras

# Importing the package defines (and so registers) every task class.
import keras_albert.tasks  # noqa: F401
from keras_albert.models.albert_backbone import AlbertBackbone
from keras_albert.tasks.albert_task import registered_tasks

BACKBONE = AlbertBackbone.task_name


def model_classes():
    """`{name: class}`: the backbone, then every task."""
    return {BACKBONE: AlbertBackbone, **registered_tasks()}


def model_names(exportable_only=False):
    """The names `model_class` takes, e.g. for a CLI's `--task` choices."""
    return tuple(
        name for name, cls in model_classes().items()
        if cls.exportable or not exportable_only
    )


def checked_model_name(name, exportable_only=False, flag="--task"):
    """`name` when it is `"auto"` or a name of `model_names`, else a
    ValueError naming the command-line `flag` and every valid name (the
    CLI checks `--task` here, when a command runs, so that its `--help`
    does not import Keras)."""
    names = model_names(exportable_only=exportable_only)
    if name != "auto" and name not in names:
        raise ValueError(
            f"{flag} {name!r} is not a model name; use auto or one of: "
            f"{', '.join(names)}."
        )
    return name


def model_class(name):
    """The class named `name` (`"backbone"`, `"classifier"`, ...)."""
    classes = model_classes()
    if name not in classes:
        raise ValueError(
            f"Unknown model {name!r}; choose one of {sorted(classes)}."
        )
    return classes[name]


def _class_for_saved_name(name):
    """The class for a `transformers` architecture or a Keras registered
    name (`keras_albert>AlbertClassifier`, `keras_hub>AlbertTextClassifier`)."""
    for cls in model_classes().values():
        if name in (cls.hf_architecture,
                    keras.saving.get_registered_name(cls),
                    *cls.keras_hub_names):
            return cls
    return None


def detect_task(source):
    """The name of the richest model `source` holds: its Hugging Face
    architecture, its saved task, or for Google checkpoints the heads
    present; `"backbone"` when it holds nothing more."""
    from keras_albert.presets import loader
    from keras_albert.presets import weight_layout
    from keras_albert.presets.keras_albert_format import read_json_object

    kind, where = loader.localize(source)
    names = []
    # read_json_object: a damaged file is a PresetError naming it.
    if kind == "hf_dir":
        names = read_json_object(os.path.join(where, "config.json")).get(
            "architectures") or []
    elif kind in ("keras_albert", "keras_hub_dir"):
        path = os.path.join(where, "task.json")
        if os.path.isfile(path):
            names = [read_json_object(path).get("registered_name")]
    elif kind == "google_dir":
        arrays = loader.read_source_arrays(kind, where)
        names = [weight_layout.google_architecture(arrays)]
    for name in names:
        cls = _class_for_saved_name(name)
        if cls is not None:
            return cls.task_name
    return BACKBONE
