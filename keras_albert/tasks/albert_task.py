"""Base class for ALBERT task models: presets, raw-text fit/predict."""

import inspect
import logging
import warnings

import keras
import numpy as np

from keras_albert.layers.arg_max import ArgMax
from keras_albert.models.albert_backbone import AlbertBackbone
from keras_albert.models.functional_model import FunctionalModel
from keras_albert.models.model_contract import ModelContract
from keras_albert.models.quantization import config_entry
from keras_albert.optimizers.finetuning_adamw import finetuning_adamw
from keras_albert.preprocessing.albert_preprocessing_layer import (
    AlbertPreprocessingLayer,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.length_batching import check_flag
from keras_albert.preprocessing.length_batching import (
    check_tokens_per_batch,
)
from keras_albert.utils.batch_checks import BatchChecks
from keras_albert.utils.batch_checks import check_counts
from keras_albert.utils.fit_inputs import as_arrays
from keras_albert.utils.fit_inputs import check_batch_size
from keras_albert.utils.fit_inputs import odd_input_message
from keras_albert.utils.fit_inputs import split_for_validation
from keras_albert.utils.label_validation import check_sample_weight
from keras_albert.utils.label_validation import check_targets
from keras_albert.utils.text_inputs import as_text_array
from keras_albert.utils.text_inputs import is_empty_batch
from keras_albert.utils.text_inputs import is_text_batch
from keras_albert.utils.text_inputs import is_text_input
from keras_albert.utils.text_inputs import is_text_pair

logger = logging.getLogger("keras_albert")


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _target_array(values, integer_dtype):
    """Targets or weights as a NumPy array for batching by index: floats
    as float32, integers as `integer_dtype`; None stays None."""
    if values is None:
        return None
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return values.astype("float32")
    if values.dtype.kind in "iub":
        return values.astype(integer_dtype)
    return values


def _spec(values):
    """The `tf.TensorSpec` of batches of the rows of `values`."""
    import tensorflow as tf

    return tf.TensorSpec((None,) + values.shape[1:],
                         tf.as_dtype(values.dtype))


def _is_dataset(x):
    return type(x).__module__.startswith("tensorflow") and hasattr(
        x, "element_spec"
    )


_TASKS = {}

# Keras' warning on the first training step of a head that never reads the
# pooled output: the pooler gets no gradient, which is expected there.
_POOLER_NO_GRADIENT = (
    r"Gradients do not exist for variables "
    r"\['[^']*pooler/kernel', '[^']*pooler/bias'\]"
)


def registered_tasks():
    """`{task_name: class}` of every task class defined so far, in
    definition order (import `keras_albert.tasks` to define them all)."""
    return dict(_TASKS)


class AlbertTask(FunctionalModel, ModelContract):
    """A backbone plus a head, with an optional preprocessor.

    When a preprocessor is attached, `fit`, `evaluate` and `predict`
    accept the task's natural data (raw strings or `(text_a, text_b)`
    pairs here) and `tf.data` datasets of it. Natural data is packed once
    and batched by length (`predict`, `fit`); datasets are preprocessed
    batch by batch inside `tf.data`. Batches are padded to the smallest
    `length_buckets` width that holds their longest sequence.
    Token-id dicts pass through unchanged (and are range-checked first).

    **The task contract** (see `ModelContract`): a subclass is one file
    in `keras_albert/tasks/` that builds its functional graph, sets
    `task_name` (which registers it: `registered_tasks()`),
    `hf_architecture`, `preprocessor_cls` and `head_arguments`, implements
    the serving hooks, and where its natural data is not raw text
    overrides `_is_raw_input` and `_raw_examples` or `_raw_dataset` (and
    `_predict_raw`,
    `_packed_inputs`, `_packed_targets`, `_labels_missing_message` where
    the defaults do not fit). Nothing else in the library lists tasks.
    """

    preprocessor_cls = None
    # Task arguments that change the head's weights' shapes: a saved task
    # asked for another value keeps its backbone and gets a fresh head.
    # Other arguments (e.g. `dropout`) are applied to the saved task.
    head_arguments = ("num_classes", "labels")
    # False for heads on the sequence output (token classification, span
    # prediction, as in Hugging Face's models, which have no pooler there):
    # `fit` then silences Keras' warning that the pooler gets no gradient.
    reads_pooled_output = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("task_name")
        if name is not None:
            if name in _TASKS and _TASKS[name] is not cls:
                raise ValueError(
                    f"Task name {name!r} of {cls.__name__} is already "
                    f"taken by {_TASKS[name].__name__}."
                )
            _TASKS[name] = cls

    # -- serving, shared by the task heads --------------------------------
    @staticmethod
    def _class_outputs(scores, activation=None):
        """Serving outputs of class scores: `logits` and `probabilities`
        (or the head's own activation output as `probabilities`) and int32
        `labels`."""
        named = {}
        if activation is None:
            named["logits"] = scores
            named["probabilities"] = keras.ops.softmax(scores, axis=-1)
        else:
            # softmax outputs are already probabilities; other activations
            # (e.g. sigmoid, multi-label) are reported as they are.
            named["probabilities"] = scores
        named["labels"] = ArgMax(name="labels")(scores)
        return named

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
                task.preprocessor.sequence_length = (
                    loader.checked_sequence_length(
                        sequence_length, task.backbone.max_sequence_length
                    )
                )
            return task
        backbone = loader.load_backbone(
            AlbertBackbone, preset, load_weights=load_weights,
            **backbone_overrides
        )
        if "preprocessor" not in kwargs and cls.preprocessor_cls is not None:
            pre_kwargs = {}
            if sequence_length is not None:
                pre_kwargs["sequence_length"] = sequence_length
            preprocessor = loader.load_preprocessor(
                preset, cls.preprocessor_cls,
                max_sequence_length=backbone.max_sequence_length, **pre_kwargs
            )
            if preprocessor is None:
                logger.warning(
                    "Preset %r has no tokenizer here; %s takes token ids "
                    "until you attach one (`preprocessor=`).",
                    preset, cls.__name__,
                )
            kwargs["preprocessor"] = preprocessor
        task = cls(backbone=backbone, **kwargs)
        if load_weights:
            logger.warning(
                "%s: backbone from %r; task head initialised fresh.",
                cls.__name__, preset,
            )
        else:
            logger.warning(
                "%s: architecture of %r, every weight initialised fresh "
                "(load_weights=False).", cls.__name__, preset,
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
                cls, AlbertBackbone, preset, load_weights,
                backbone_overrides, **kwargs
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
            cls, AlbertBackbone, preset, load_weights, backbone_overrides,
            **kwargs
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
    def _dense_head(backbone, units, name, **kwargs):
        """A fresh task head: a `Dense` with the truncated-normal init of
        ALBERT's own layers (the backbone's `initializer_range`) and the
        backbone's dtype policy."""
        return keras.layers.Dense(
            units,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=backbone.initializer_range
            ),
            dtype=backbone.dtype_policy,
            name=name,
            **kwargs,
        )

    @staticmethod
    def _head_dropout(backbone, rate, name):
        """Dropout before a task head, in the backbone's dtype policy."""
        return keras.layers.Dropout(rate, dtype=backbone.dtype_policy,
                                    name=name)

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

    # -- .keras saving ------------------------------------------------------
    def save_assets(self, dir_path):
        """Saves the tokenizer of a preprocessor that is not a Keras layer
        (those Keras saving does not visit), so a `.keras` file keeps it."""
        if self._plain_preprocessor() is not None:
            self.preprocessor.tokenizer.save_assets(dir_path)

    def load_assets(self, dir_path):
        if self._plain_preprocessor() is not None:
            self.preprocessor.tokenizer.load_assets(dir_path)

    def _plain_preprocessor(self):
        preprocessor = getattr(self, "preprocessor", None)
        if preprocessor is None or isinstance(preprocessor,
                                              keras.layers.Layer):
            return None
        return preprocessor

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
            # Which layers `quantize` converted, heads included (nothing
            # when float).
            **config_entry(self),
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

    # -- raw inputs: the hooks a task overrides -------------------------
    def _target_classes(self):
        """What the task's targets are, for the checks before training:
        above 1, class ids `0..n-1` (or one-hot rows n wide); 1, real
        numbers (regression, must be finite); None, unchecked (the task
        checks its own targets)."""
        return None

    # Axes of a batch of class ids: 1 (one per example) or 2 (per token).
    _label_rank = 1

    def _batch_checks(self):
        """The `BatchChecks` of this model's inputs and targets."""
        backbone = self.backbone
        return BatchChecks(
            vocabulary_size=backbone.vocabulary_size,
            num_segments=backbone.num_segments,
            max_sequence_length=backbone.max_sequence_length,
            input_names=self._input_names() or BatchChecks.input_names,
            input_rank=len(self.serving_input_shape()),
            num_classes=self._target_classes(),
            label_rank=self._label_rank,
        )

    def _check_token_inputs(self, x):
        self._batch_checks().check_inputs(x)

    def _input_names(self):
        """The names of the model's inputs (its functional graph's)."""
        inputs = self.input
        return tuple(inputs) if isinstance(inputs, dict) else None

    def _is_raw_input(self, x):
        """Whether `x` is the task's natural data, which the preprocessor
        packs (here raw strings or `(a, b)` pairs)."""
        return is_text_input(x)

    def _raw_examples(self, x, y=None, sample_weight=None):
        """`(inputs, y, sample_weight, count)`: raw input `x` checked and
        in the batched form the preprocessor packs (NumPy arrays, a tuple
        or dict of them), with its targets checked against it."""
        # Raw strings and `(a, b)` pairs are what `AlbertPreprocessor`
        # packs, whatever preprocessor class the task itself uses.
        self._require_preprocessor("raw text", "AlbertPreprocessor")
        if is_text_pair(x):
            x = tuple(as_text_array(v) for v in x)
            if len(x[0]) != len(x[1]):
                raise ValueError(
                    f"A text pair needs as many first texts as second "
                    f"texts; received {len(x[0])} and {len(x[1])}."
                )
        else:
            x = as_text_array(x)
        count = len(x[0]) if isinstance(x, tuple) else len(x)
        for name, values in (("y", y), ("sample_weight", sample_weight)):
            if values is not None and len(values) != count:
                raise ValueError(
                    f"Got {count} texts but {len(values)} values of "
                    f"`{name}`; give one per text."
                )
        self._batch_checks().check_targets(y, sample_weight)
        return x, y, sample_weight, count

    def _raw_dataset(self, x, y=None, sample_weight=None, batch_size=None,
                     shuffle=False, by_length=True, tokens_per_batch=None):
        """A batched, preprocessed `tf.data` dataset of raw input `x`.

        Args:
            by_length: bool. Batch examples of similar lengths together:
                with `shuffle`, bucketed shuffling (a new random order of
                such batches every epoch); without, longest first.
            tokens_per_batch: int or None. Without `shuffle`: batches of
                at most this many padded tokens (`batch_size` ignored).
        """
        return self._raw_batches(x, y, sample_weight, batch_size, shuffle,
                                 by_length, tokens_per_batch)[0]

    def _raw_batches(self, x, y=None, sample_weight=None, batch_size=None,
                     shuffle=False, by_length=True, tokens_per_batch=None):
        """`(dataset, batches)`: `_raw_dataset` and its `LengthBatches`
        (None for a preprocessor that cannot pack rows ahead, whose
        dataset keeps input order)."""
        inputs, y, sample_weight, count = self._raw_examples(
            x, y, sample_weight)
        preprocessor = self.preprocessor
        if not AlbertPreprocessingLayer.packs_rows(preprocessor):
            # Another preprocessor: packed batch by batch, in input order.
            return self._preprocessed_dataset(
                keras.utils.pack_x_y_sample_weight(inputs, y, sample_weight),
                count, batch_size, shuffle), None
        import tensorflow as tf

        # Tokenized and packed once, unpadded: the lengths pick the
        # batches, and each batch is padded to its own width.
        rows = preprocessor.packed_rows(inputs, count)
        batches = LengthBatches(
            rows.lengths, batch_size, shuffle=shuffle, by_length=by_length,
            tokens_per_batch=tokens_per_batch,
            padded_width=preprocessor.padded_width,
            split_widths=self._split_widths())
        y = _target_array(y, "int32")
        sample_weight = _target_array(sample_weight, "float32")

        def make_batch(indices):
            return keras.utils.pack_x_y_sample_weight(
                preprocessor.pad_packed(rows, indices),
                None if y is None else y[indices],
                None if sample_weight is None else sample_weight[indices])

        group = rows.rows_per_example
        token_shape = (None, None) if group == 1 else (None, group, None)
        signature = keras.utils.pack_x_y_sample_weight(
            {key: tf.TensorSpec(token_shape, tf.int32)
             for key in ("token_ids", "segment_ids", "padding_mask")},
            None if y is None else _spec(y),
            None if sample_weight is None else _spec(sample_weight))
        return batches.dataset(make_batch, signature), batches

    def _predict_raw(self, x, batch_size=None, sort_by_length=True,
                     tokens_per_batch=None, **kwargs):
        """`predict` on natural data, batched by length and returned in
        the caller's order; tasks whose predictions are not one row per
        packed input (words, windows) override this."""
        dataset, batches = self._raw_batches(
            x, batch_size=batch_size, by_length=sort_by_length,
            tokens_per_batch=tokens_per_batch)
        outputs = super().predict(dataset, **kwargs)
        return outputs if batches is None else batches.restore(outputs)

    def _split_widths(self):
        """Whether inference batches keep padded widths apart: yes where
        a new input shape costs nothing (a TensorFlow graph without XLA
        traces a shape-generic graph after a few shapes; PyTorch eager),
        for the fewest computed tokens; no where every shape is compiled
        (XLA on TensorFlow or JAX), for the fewest shapes."""
        return not self.jit_compile

    def _labels_missing_message(self):
        """The error for raw inputs without labels in fit/evaluate."""
        return (
            f"{type(self).__name__} needs labels `y` to train or evaluate on "
            "raw inputs (one per example, e.g. what the task's "
            "`keras_albert.datasets` reader returns)."
        )

    def _packed_inputs(self, x):
        """Inputs that are not natural data: token-id dicts (range-checked)
        or `tf.data` datasets (mapped through the preprocessor when they
        hold the task's natural data). Every batch Keras will see is
        checked before its compiled step (`BatchChecks`): datasets in
        `tf.data`, generators as they are drawn."""
        problem = odd_input_message(x)
        if problem:
            raise ValueError(problem)
        x = as_arrays(self._maybe_map_dataset(x))
        if _is_dataset(x):
            return self._batch_checks().dataset(x)
        if inspect.isgenerator(x):
            return self._batch_checks().generator(x)
        self._check_token_inputs(x)
        return x

    def _packed_targets(self, y):
        """Targets given with packed inputs, in the form Keras trains on
        (checked against `_target_classes`)."""
        classes = self._target_classes()
        if classes is not None:
            check_targets(y, classes, self._label_rank)
        return y

    def _packed_data(self, x, y, sample_weight):
        """`(x, y, sample_weight)` of packed inputs for fit/evaluate:
        checked, with labels where the task needs them."""
        x = self._packed_inputs(x)
        y = self._packed_targets(y)
        check_sample_weight(sample_weight)
        spec = getattr(x, "element_spec", None) if _is_dataset(x) else ()
        if not isinstance(spec, tuple) and (
            self._target_classes() is not None
        ):
            raise ValueError(
                f"{type(self).__name__} needs labels to train or evaluate: "
                "the dataset's batches must be `(x, y)` or `(x, y, "
                "sample_weight)`; these hold inputs only.")
        if isinstance(x, dict):
            if y is None and self._target_classes() is not None:
                raise ValueError(
                    f"{type(self).__name__} needs labels `y` to train or "
                    "evaluate on token inputs (one per example).")
            check_counts(x, y, sample_weight)
        return x, y, sample_weight

    def _maybe_map_dataset(self, x):
        """Applies the preprocessor to a tf.data dataset of strings."""
        if not _is_dataset(x) or self.preprocessor is None:
            return x
        import tensorflow as tf

        spec = x.element_spec
        first = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(first, tuple):
            first = first[0]
        if is_text_batch(first):
            return x.map(self.preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        return x

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

    def _labelled_raw_dataset(self, x, y, sample_weight, batch_size,
                              shuffle=False, by_length=True,
                              tokens_per_batch=None):
        if y is None:
            raise ValueError(self._labels_missing_message())
        return self._raw_dataset(x, y, sample_weight, batch_size, shuffle,
                                 by_length, tokens_per_batch)

    def _prepare_validation(self, data, batch_size):
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            x, y, *weights = data
            if self._is_raw_input(x):
                return self._labelled_raw_dataset(
                    x, y, weights[0] if weights else None, batch_size)
            x, y, weight = self._packed_data(
                x, y, weights[0] if weights else None)
            return (x, y) + ((weight,) if weights else ())
        return self._packed_inputs(data)

    # -- fit / evaluate / predict on any input the task takes -------------
    def fit(self, x=None, y=None, batch_size=None, sample_weight=None,
            validation_data=None, shuffle=True, bucket_by_length=True,
            **kwargs):
        """Keras `fit`, also on the task's natural data (raw text, ...).

        On natural data each batch is padded to its own width, and with
        `bucket_by_length` (the default) holds examples of similar lengths:
        every epoch the examples are shuffled, sorted by length within
        windows of 50 batches and cut into batches, which come in a new
        random order (much less padding than plain shuffling, still a new
        composition and order every epoch). `bucket_by_length=False`
        shuffles plainly; `shuffle=False` keeps the caller's order. Raw
        `validation_data` is batched longest first, like `evaluate`. Other
        inputs pass to Keras as they are.
        """
        check_batch_size(batch_size)
        bucket_by_length = check_flag("bucket_by_length", bucket_by_length)
        if self._is_raw_input(x) and kwargs.get("validation_split"):
            # Keras splits arrays only; natural data is split here.
            (x, y, sample_weight), validation_data = split_for_validation(
                x, y, sample_weight, kwargs.pop("validation_split"))
            if validation_data[2] is None:
                validation_data = validation_data[:2]
        if validation_data is not None:
            # Here, while `batch_size` is still the caller's.
            validation_data = self._prepare_validation(validation_data,
                                                       batch_size)
        if self._is_raw_input(x):
            # `shuffle=False` keeps the caller's order (and batches), as
            # Keras does: bucketing is a way of shuffling.
            x = self._labelled_raw_dataset(
                x, y, sample_weight, batch_size, bool(shuffle),
                bucket_by_length and bool(shuffle))
            # Shuffled above; Keras ignores `shuffle` for datasets anyway.
            y = sample_weight = batch_size = None
        else:
            x, y, sample_weight = self._packed_data(x, y, sample_weight)
        if _is_dataset(x) or inspect.isgenerator(x):
            shuffle = False
        with warnings.catch_warnings():
            if not self.reads_pooled_output:
                warnings.filterwarnings("ignore",
                                        message=_POOLER_NO_GRADIENT)
            return super().fit(
                x=x, y=y, batch_size=batch_size,
                sample_weight=sample_weight,
                validation_data=validation_data, shuffle=shuffle, **kwargs,
            )

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None,
                 sort_by_length=True, tokens_per_batch=None, **kwargs):
        """Keras `evaluate`, also on the task's natural data.

        On natural data, `sort_by_length` (the default) batches examples
        longest first (the metrics do not depend on the order) and
        `tokens_per_batch` caps `rows * padded_width` per batch instead of
        `batch_size` rows; see `predict`.
        """
        check_batch_size(batch_size)
        sort_by_length = check_flag("sort_by_length", sort_by_length)
        tokens_per_batch = check_tokens_per_batch(tokens_per_batch)
        if self._is_raw_input(x):
            x = self._labelled_raw_dataset(x, y, sample_weight, batch_size,
                                           False, sort_by_length,
                                           tokens_per_batch)
            y = sample_weight = batch_size = None
        else:
            self._no_token_budget(tokens_per_batch)
            x, y, sample_weight = self._packed_data(x, y, sample_weight)
        return super().evaluate(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight,
            **kwargs,
        )

    def _empty_prediction(self):
        """What `predict` returns for an empty batch: the outputs' shapes
        with no rows."""
        def empty(spec):
            shape = (0,) + tuple(d or 0 for d in spec.shape[1:])
            return np.zeros(shape, spec.dtype)

        return keras.tree.map_structure(empty, self.output)

    def predict(self, x, batch_size=None, sort_by_length=True,
                tokens_per_batch=None, **kwargs):
        """Keras `predict`, also on the task's natural data (raw text,
        ...), returned in the caller's order.

        On natural data the examples are tokenized once and, with
        `sort_by_length` (the default), batched longest first, so a batch
        holds texts of similar lengths and is padded to one of a few
        widths (the preprocessor's `length_buckets`): less padding to
        compute and a few compiled shapes. `sort_by_length=False` batches
        them in input order.

        Args:
            x: natural data, token dicts or a dataset.
            batch_size: int. Examples per batch (default 32).
            sort_by_length: bool. See above.
            tokens_per_batch: int or None. Natural data only: each batch
                holds as many examples as keep `rows * padded_width <=
                tokens_per_batch` (more short texts per batch, fewer long
                ones; an example longer than that gets a batch of its
                own); `batch_size` is then ignored.
            **kwargs: Keras `predict` arguments (`verbose`, ...).
        """
        check_batch_size(batch_size)
        sort_by_length = check_flag("sort_by_length", sort_by_length)
        tokens_per_batch = check_tokens_per_batch(tokens_per_batch)
        if x is None:
            raise ValueError(
                f"{type(self).__name__}.predict got None; pass a batch of "
                "inputs (e.g. a list of strings).")
        if is_empty_batch(x):
            return self._empty_prediction()
        if self._is_raw_input(x):
            return self._predict_raw(
                x, batch_size=batch_size, sort_by_length=sort_by_length,
                tokens_per_batch=tokens_per_batch, **kwargs)
        self._no_token_budget(tokens_per_batch)
        return super().predict(self._packed_inputs(x), batch_size=batch_size,
                               **kwargs)

    def _no_token_budget(self, tokens_per_batch):
        """A ValueError for `tokens_per_batch` with inputs that are not
        natural data (they come batched or padded already)."""
        if tokens_per_batch is not None:
            raise ValueError(
                "`tokens_per_batch` applies to the task's natural data (raw "
                f"text, ...), which {type(self).__name__} batches itself; "
                "token dicts and datasets are batched by `batch_size` or "
                "by the dataset.")
