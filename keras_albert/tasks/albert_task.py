"""Base class for ALBERT task models: presets, raw-text fit/predict."""

import logging

import keras
import numpy as np

from keras_albert.models.functional_model import FunctionalModel
from keras_albert.optimizers.finetuning_adamw import finetuning_adamw
from keras_albert.utils.input_validation import check_input_dict
from keras_albert.utils.text_inputs import is_text_input

logger = logging.getLogger("keras_albert")


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _is_dataset(x):
    return type(x).__module__.startswith("tensorflow") and hasattr(
        x, "element_spec"
    )


class AlbertTask(FunctionalModel):
    """A backbone plus a head, with an optional preprocessor.

    When a preprocessor is attached, `fit`, `evaluate` and `predict` accept
    raw strings (or `(text_a, text_b)` pairs) and `tf.data` datasets of
    strings: text is tokenized and packed batch by batch inside `tf.data`,
    padded to the batch's longest sequence. Token-id dicts pass through
    unchanged (and are range-checked first).

    Subclasses set `preprocessor_cls` and build their functional graph.
    """

    preprocessor_cls = None
    # Task arguments that change the head's weights' shapes: a saved task
    # asked for another value keeps its backbone and gets a fresh head.
    # Other arguments (e.g. `dropout`) are applied to the saved task.
    head_arguments = ("num_classes", "labels")

    # -- presets -------------------------------------------------------
    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds the task from a named preset or a preset directory.

        A directory that holds this task (saved with `save_to_preset`) is
        restored whole. Otherwise the backbone (and tokenizer, when the
        preset has one) is loaded and the head is initialised fresh, which is
        reported in one log line.

        Args:
            preset: a built-in name (`"base"`, `"large-v1"`, ...) or a
                preset directory.
            load_weights: bool. Load pretrained weights.
            **kwargs: task arguments (e.g. `num_classes`), `preprocessor`
                (an instance or None), `sequence_length` for the
                preprocessor, and `backbone_overrides` (a dict).
        """
        from keras_albert.presets import loader

        sequence_length = kwargs.pop("sequence_length", None)
        backbone_overrides = kwargs.pop("backbone_overrides", {}) or {}
        task = cls._load_saved_task(
            preset, load_weights, kwargs, backbone_overrides
        )
        if task is not None:
            if sequence_length is not None and task.preprocessor is not None:
                task.preprocessor.sequence_length = int(sequence_length)
            return task
        backbone = loader.load_backbone(
            preset, load_weights=load_weights, **backbone_overrides
        )
        if "preprocessor" not in kwargs and cls.preprocessor_cls is not None:
            pre_kwargs = {}
            if sequence_length is not None:
                pre_kwargs["sequence_length"] = sequence_length
            preprocessor = loader.load_preprocessor(
                preset, cls.preprocessor_cls, **pre_kwargs
            )
            if preprocessor is None:
                logger.warning(
                    "Preset %r has no tokenizer here; %s takes token ids "
                    "until you attach one (`preprocessor=`).",
                    preset, cls.__name__,
                )
            kwargs["preprocessor"] = preprocessor
        task = cls(backbone=backbone, **kwargs)
        logger.warning(
            "%s: backbone from %r; task head initialised fresh.",
            cls.__name__, preset,
        )
        return task

    @classmethod
    def _load_saved_task(cls, preset, load_weights, kwargs,
                         backbone_overrides):
        from keras_albert.presets import keras_albert_format as kaf
        from keras_albert.presets import loader

        kind, where = loader.resolve(preset)
        if kind != "keras_albert":
            # Converted sources: every head the source has is loaded, the
            # rest initialised fresh and reported by the loader.
            return loader.load_task(
                cls, preset, load_weights, backbone_overrides, **kwargs
            )
        saved = kaf.load_task_config(where)
        if saved is None:
            return None
        saved_config = saved.get("config", {})
        # A different head shape (e.g. other num_classes) means a new head.
        for key in cls.head_arguments:
            if key in kwargs and key in saved_config and _as_list(
                saved_config[key]
            ) != _as_list(kwargs[key]):
                return None
        return loader.load_task(
            cls, preset, load_weights, backbone_overrides, **kwargs
        )

    def save_to_preset(self, preset_dir, format="keras_albert"):
        """Writes the model to `preset_dir`.

        Args:
            preset_dir: output directory.
            format: `"keras_albert"` (backbone, head, tokenizer and
                preprocessor settings; `from_preset` restores this model
                exactly), `"hf"` (a folder the matching `transformers`
                class, e.g. `AlbertForSequenceClassification`, loads, with
                `spiece.model`) or `"google"` (Google's original layout).
        """
        from keras_albert.presets.loader import save_preset

        save_preset(self, preset_dir, format=format)

    # -- shared by the task heads ----------------------------------------
    @staticmethod
    def _head_initializer(backbone):
        """Kernel initializer of a fresh task head: the truncated normal of
        ALBERT's own layers, with the backbone's `initializer_range`."""
        return keras.initializers.TruncatedNormal(
            stddev=backbone.initializer_range
        )

    @staticmethod
    def _fine_tuning_optimizer():
        """A new optimizer for `compile(optimizer="auto")` of the
        fine-tuning tasks: `finetuning_adamw()`, AdamW at 2e-5 with weight
        decay 0.01 on all but biases and LayerNorm parameters."""
        # New each call: an optimizer holds per-model state.
        return finetuning_adamw()

    def _require_preprocessor(self, received, preprocessor_name=None):
        """`self.preprocessor`, or a ValueError saying how to attach one.

        Args:
            received: str. What the caller passed that needs a
                preprocessor (e.g. `"raw text"`), named in the message.
            preprocessor_name: str. The preprocessor class the message
                suggests; defaults to the task's `preprocessor_cls`.
        """
        if self.preprocessor is None:
            if preprocessor_name is None:
                preprocessor_name = self.preprocessor_cls.__name__
            raise ValueError(
                f"{type(self).__name__} got {received} but has no "
                "preprocessor. Build it with `from_preset` on a preset that "
                "has a tokenizer, or pass `preprocessor="
                f"{preprocessor_name}(tokenizer)`."
            )
        return self.preprocessor

    # -- config --------------------------------------------------------
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "preprocessor": (
                keras.saving.serialize_keras_object(self.preprocessor)
                if self.preprocessor is not None else None
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(
                    config[key]
                )
        return cls(**config)

    # -- raw-text friendly training and inference ------------------------
    def _check_token_inputs(self, x):
        check_input_dict(
            x, self.backbone.vocabulary_size, self.backbone.num_segments
        )

    def _is_raw_input(self, x):
        """Whether `x` is data the preprocessor packs (here raw strings or
        `(a, b)` pairs); tasks with other natural data override this and
        `_raw_dataset`."""
        return is_text_input(x)

    def _raw_dataset(self, x, y=None, sample_weight=None, batch_size=None,
                     shuffle=False):
        """A batched, preprocessed `tf.data` dataset of raw input `x`."""
        # Raw strings and `(a, b)` pairs are what `AlbertPreprocessor`
        # packs, whatever preprocessor class the task itself uses.
        self._require_preprocessor("raw text", "AlbertPreprocessor")
        x = tuple(np.asarray(v) for v in x) if isinstance(x, tuple) else (
            np.asarray(x)
        )
        return self._preprocessed_dataset(
            keras.utils.pack_x_y_sample_weight(x, y, sample_weight),
            len(y) if y is not None else 1024, batch_size, shuffle)

    def _preprocessed_dataset(self, data, shuffle_buffer, batch_size,
                              shuffle):
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(data)
        if shuffle:
            ds = ds.shuffle(max(shuffle_buffer, 1),
                            reshuffle_each_iteration=True)
        ds = ds.batch(batch_size or 32)
        return ds.map(self.preprocessor, num_parallel_calls=tf.data.AUTOTUNE)\
            .prefetch(tf.data.AUTOTUNE)

    def _maybe_map_dataset(self, x):
        """Applies the preprocessor to a tf.data dataset of strings."""
        import tensorflow as tf

        if not isinstance(x, tf.data.Dataset) or self.preprocessor is None:
            return x
        spec = x.element_spec
        first = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(first, tuple):
            first = first[0]
        if getattr(first, "dtype", None) == tf.string:
            return x.map(self.preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        return x

    def fit(self, x=None, y=None, batch_size=None, sample_weight=None,
            validation_data=None, shuffle=True, **kwargs):
        if self._is_raw_input(x):
            if y is None:
                raise ValueError(
                    f"{type(self).__name__}.fit needs labels `y` with raw "
                    "inputs (one per example, e.g. what the task's "
                    "`keras_albert.datasets` reader returns)."
                )
            x = self._raw_dataset(x, y, sample_weight, batch_size, shuffle)
            # Shuffled above; Keras ignores `shuffle` for datasets anyway.
            y = sample_weight = batch_size = None
            shuffle = False
        else:
            x = self._maybe_map_dataset(x)
            self._check_token_inputs(x)
        if _is_dataset(x):
            shuffle = False
        if validation_data is not None:
            validation_data = self._prepare_validation(validation_data,
                                                       batch_size)
        return super().fit(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight,
            validation_data=validation_data, shuffle=shuffle, **kwargs,
        )

    def _prepare_validation(self, data, batch_size):
        if isinstance(data, tuple) and len(data) in (2, 3) and (
            self._is_raw_input(data[0])
        ):
            return self._raw_dataset(*data, batch_size=batch_size)
        return self._maybe_map_dataset(data)

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None,
                 **kwargs):
        if self._is_raw_input(x):
            x = self._raw_dataset(x, y, sample_weight, batch_size)
            y = sample_weight = batch_size = None
        else:
            x = self._maybe_map_dataset(x)
            self._check_token_inputs(x)
        return super().evaluate(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight,
            **kwargs,
        )

    def predict(self, x, batch_size=None, **kwargs):
        if self._is_raw_input(x):
            x = self._raw_dataset(x, batch_size=batch_size)
            batch_size = None
        else:
            x = self._maybe_map_dataset(x)
            self._check_token_inputs(x)
        return super().predict(x, batch_size=batch_size, **kwargs)
