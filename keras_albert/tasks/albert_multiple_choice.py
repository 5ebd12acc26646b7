"""Multiple-choice reading comprehension (RACE style) on ALBERT."""

import keras
import numpy as np

from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    REQUIRED_KEYS,
)
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.tasks.albert_task import _is_dataset

TOKEN_KEYS = ("token_ids", "segment_ids", "padding_mask")


def _merge_batch_and_choices(x):
    """`(batch, num_choices, L)` -> `(batch * num_choices, L)`."""
    return keras.ops.reshape(x, (-1, keras.ops.shape(x)[-1]))


def _is_natural(x):
    """Whether `x` is a RACE-style dict of strings (not token ids)."""
    return isinstance(x, dict) and "token_ids" not in x and any(
        key in x for key in REQUIRED_KEYS
    )


def _check_num_choices(num_choices):
    try:
        value = int(num_choices)
    except (TypeError, ValueError):
        value = None
    if isinstance(num_choices, bool) or value is None or value < 1 or (
        value != num_choices
    ):
        raise ValueError(
            "`num_choices` must be a positive integer. Received: "
            f"{num_choices!r}."
        )
    return value


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertMultipleChoice(AlbertTask):
    """ALBERT scoring each option of a multiple-choice question (RACE).

    Inputs are token dicts of shape `(batch, num_choices, length)`: one
    `[CLS] article [SEP] question+option [SEP]` sequence per option, as
    `AlbertMultipleChoicePreprocessor` builds them. The backbone encodes
    every sequence, a shared `Dense(1)` (`self.head`, after dropout) scores
    its pooled output, and the output is logits `(batch, num_choices)`;
    the softmax over them picks the answer. This is exactly Hugging Face's
    `AlbertForMultipleChoice`, so its checkpoints load with `from_preset`.

    With a preprocessor attached, `fit`, `evaluate`, `predict`,
    `predict_choices` and `task_metrics` also
    take the natural data of `keras_albert.datasets.load_race`: a dict
    `{"article": [...], "question": [...], "options": [[...], ...]}` with
    one entry per question, labels being option indexes; and `tf.data`
    datasets of such dicts.

    Args:
        backbone: an `AlbertBackbone`.
        num_choices: int. Options per question (4 for RACE).
        preprocessor: optional `AlbertMultipleChoicePreprocessor`.
        dropout: float. Dropout before the head (ALBERT uses 0.1).

    Example:
    ```python
    x, y = keras_albert.datasets.load_race("RACE/train/middle")
    model = keras_albert.AlbertMultipleChoice.from_preset(
        "base", num_choices=4, sequence_length=512)
    model.compile()
    model.fit(x, y, batch_size=8, epochs=2)
    model.task_metrics(*keras_albert.datasets.load_race("RACE/dev"))
    # {"accuracy": ...}
    model.predict_choices(x)  # option index per question
    model.predict_proba(x)  # (questions, num_choices) probabilities
    ```
    """

    task_name = "multiple_choice"
    hf_architecture = "AlbertForMultipleChoice"
    preprocessor_cls = AlbertMultipleChoicePreprocessor

    def __init__(self, backbone, num_choices=4, preprocessor=None,
                 dropout=0.1, **kwargs):
        num_choices = _check_num_choices(num_choices)
        inputs = {
            key: keras.Input((num_choices, None), dtype="int32", name=key)
            for key in TOKEN_KEYS
        }
        # The backbone sees every (article, option) pair as its own row.
        self.merge_choices = keras.layers.Lambda(
            _merge_batch_and_choices, name="merge_choices"
        )
        pooled = backbone(
            {key: self.merge_choices(inputs[key]) for key in TOKEN_KEYS}
        )["pooled_output"]
        self.head_dropout = self._head_dropout(backbone, dropout,
                                               "head_dropout")
        self.head = self._dense_head(backbone, 1, "choice_logits")
        scores = self.head(self.head_dropout(pooled))
        outputs = keras.ops.reshape(scores, (-1, num_choices))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_choices = num_choices
        self.dropout = float(dropout)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds the task from a preset (see `AlbertTask.from_preset`).

        The head scores one option at a time, so its weights fit any
        `num_choices`: a saved multiple-choice model keeps its fine-tuned
        head when loaded with another `num_choices`.
        """
        num_choices = kwargs.pop("num_choices", None)
        if num_choices is not None:
            num_choices = _check_num_choices(num_choices)
        task = super().from_preset(preset, load_weights=load_weights,
                                   **kwargs)
        if num_choices is None or num_choices == task.num_choices:
            return task
        resized = cls(
            backbone=task.backbone,
            num_choices=num_choices,
            preprocessor=task.preprocessor,
            dropout=task.dropout,
            name=task.name,
        )
        resized.head.set_weights(task.head.get_weights())
        return resized

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` with ALBERT fine-tuning defaults for `"auto"`:
        AdamW at 2e-5 (weight decay 0.01), cross-entropy on the choice
        logits and accuracy."""
        if optimizer == "auto":
            optimizer = self._fine_tuning_optimizer()
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(
                name="accuracy"
            )]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    # -- natural data ----------------------------------------------------
    def _natural_arrays(self, x):
        """Checks a RACE-style dict; returns its fields as numpy arrays."""
        missing = [k for k in REQUIRED_KEYS if k not in x]
        if missing:
            raise ValueError(
                f"{type(self).__name__} data lacks {missing}; expected a dict"
                f" with {list(REQUIRED_KEYS)} (what `load_race` returns)."
            )
        article = np.asarray(x["article"], dtype=object)
        question = np.asarray(x["question"], dtype=object)
        if article.ndim != 1 or question.ndim != 1 or (
            len(article) != len(question)
        ):
            raise ValueError(
                "`article` and `question` must be flat lists of the same "
                f"length (one entry per question). Received shapes "
                f"{article.shape} and {question.shape}."
            )
        options = list(x["options"])
        if len(options) != len(article):
            raise ValueError(
                f"`options` has {len(options)} entries but there are "
                f"{len(article)} questions."
            )
        for i, row in enumerate(options):
            if isinstance(row, (str, bytes)) or len(row) != self.num_choices:
                count = 1 if isinstance(row, (str, bytes)) else len(row)
                raise ValueError(
                    f"Question {i} has {count} options; this model scores "
                    f"num_choices={self.num_choices}. Load it with "
                    "`from_preset(..., num_choices=n)` for another count."
                )
        options = np.array(options, dtype=object).reshape(
            len(options), self.num_choices
        )
        fields = {"article": article, "question": question,
                  "options": options}
        for key, values in fields.items():
            for i, value in enumerate(values.flat):
                if not isinstance(value, (str, bytes)):
                    raise ValueError(
                        f"`{key}` must hold strings; entry {i} is "
                        f"{type(value).__name__} {value!r}."
                    )
        return {k: v.astype(str) for k, v in fields.items()}

    def _check_labels(self, y, count):
        y = np.asarray(y)
        if y.shape != (count,) or y.dtype.kind not in "iu":
            raise ValueError(
                f"Labels must be {count} integer option indexes (one per "
                f"question). Received shape {y.shape}, dtype {y.dtype}."
            )
        bad = y[(y < 0) | (y >= self.num_choices)]
        if bad.size:
            raise ValueError(
                f"Label {int(bad[0])} is out of range for num_choices="
                f"{self.num_choices} (valid: 0..{self.num_choices - 1})."
            )
        return y.astype("int32")

    def _is_raw_input(self, x):
        return _is_natural(x)

    def _target_classes(self):
        return self.num_choices

    def _raw_examples(self, x, y=None, sample_weight=None):
        self._require_preprocessor("text")
        fields = self._natural_arrays(x)
        count = len(fields["article"])
        if not count:
            raise ValueError(f"{type(self).__name__} got no questions.")
        if y is not None:
            y = self._check_labels(y, count)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, "float32")
            if sample_weight.shape != (count,):
                raise ValueError(
                    f"Got {count} questions but `sample_weight` of shape "
                    f"{sample_weight.shape}; give one weight per question.")
        return fields, y, sample_weight, count

    def _maybe_map_dataset(self, x):
        """Applies the preprocessor to a tf.data dataset of RACE dicts."""
        if not _is_dataset(x) or self.preprocessor is None:
            return x
        spec = x.element_spec
        features = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(features, dict) and "token_ids" not in features and (
            "article" in features
        ):
            import tensorflow as tf

            return x.map(self.preprocessor,
                         num_parallel_calls=tf.data.AUTOTUNE)
        return x

    def _check_token_inputs(self, x):
        if isinstance(x, dict) and "token_ids" in x:
            shape = tuple(np.shape(x["token_ids"]))
            if len(shape) != 3 or shape[1] != self.num_choices:
                raise ValueError(
                    f"{type(self).__name__} takes token dicts of shape "
                    f"(batch, num_choices={self.num_choices}, length). "
                    f"Received token_ids of shape {shape}."
                )
        super()._check_token_inputs(x)

    def predict_choices(self, x, batch_size=32, **kwargs):
        """The chosen option index per question, an int numpy array.

        Args:
            x: natural data (see the class docstring), token dicts or a
                `tf.data` dataset, as for `predict`.
            batch_size: int. Questions per batch.
        """
        kwargs.setdefault("verbose", 0)
        logits = self.predict(x, batch_size=batch_size, **kwargs)
        return np.argmax(keras.ops.convert_to_numpy(logits), axis=-1)

    def predict_proba(self, x, batch_size=32, **kwargs):
        """Per-option probabilities `(questions, num_choices)`, the softmax
        of the option scores, as a NumPy array (`predict_choices` gives
        the chosen option).

        Args:
            x: what `predict_choices` takes.
            batch_size: int. Questions per batch.
        """
        kwargs.setdefault("verbose", 0)
        logits = self.predict(x, batch_size=batch_size, **kwargs)
        return np.asarray(keras.ops.convert_to_numpy(
            keras.ops.softmax(logits, axis=-1)))

    def task_metrics(self, x, y, batch_size=32):
        """RACE's official metric on `(x, y)`: `{"accuracy": float}`, the
        fraction of questions whose highest-scoring option is the answer.

        Args:
            x: natural data (what `load_race` returns), token dicts
                `(count, num_choices, L)` or a `tf.data` dataset of either.
            y: option indexes, one per question.
            batch_size: int. Questions per batch.
        """
        predicted = self.predict_choices(x, batch_size=batch_size)
        y = self._check_labels(y, len(predicted))
        return {"accuracy": float(np.mean(predicted == y))}

    def serving_input_shape(self):
        """`(batch, num_choices, length)`: the option count is fixed."""
        return (None, self.num_choices, None)

    def serving_outputs(self, outputs, inputs, **options):
        """Per option `logits` and `probabilities`; `labels`: the chosen
        option."""
        return self._class_outputs(outputs)

    def export_settings(self, **options):
        return {"num_choices": self.num_choices}

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_choices": self.num_choices, "dropout": self.dropout}
        )
        return config
