"""Sequence classification and regression on ALBERT's pooled output."""

import keras

from keras_albert.metrics.classification import classification_scores
from keras_albert.metrics.classification import regression_scores
from keras_albert.metrics.pearson_correlation import PearsonCorrelation
from keras_albert.preprocessing.albert_preprocessor import AlbertPreprocessor
from keras_albert.presets import keras_hub_format
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.tasks.class_predictions import ClassPredictions
from keras_albert.utils import config_checks


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertClassifier(ClassPredictions, AlbertTask):
    """ALBERT with a dense head on the pooled `[CLS]` vector.

    `predict` returns logits `(batch, num_classes)`; `predict_proba` the
    class probabilities and `predict_labels` the predicted classes (their
    names when the model has `label_names`). With `num_classes=1` it is a
    regressor (STS-B style) trained with mean squared error. With a
    preprocessor attached, `fit`/`predict` take raw strings or
    `(text_a, text_b)` pairs.

    Args:
        backbone: an `AlbertBackbone`.
        num_classes: int. Number of classes; 1 for regression.
        preprocessor: optional `AlbertPreprocessor`.
        dropout: float. Dropout before the head (ALBERT uses 0.1).
        activation: optional activation for the outputs, e.g. `"softmax"`;
            None returns logits.
        label_names: optional list of `num_classes` class names, in id
            order, saved with the model; `predict_labels` returns them.
            `from_preset` reads them from a Hugging Face `id2label` that
            names real classes, and `keras-albert finetune` from the data.

    Example:
    ```python
    classifier = keras_albert.AlbertClassifier.from_preset(
        "base", num_classes=2, label_names=["negative", "positive"])
    classifier.fit(["great film", "dull plot"], [1, 0], batch_size=2)
    classifier.predict(["what a movie"])  # logits, (1, 2)
    classifier.predict_proba(["what a movie"])  # probabilities, (1, 2)
    classifier.predict_labels(["what a movie"])  # array(['positive'])
    ```
    """

    task_name = "classifier"
    hf_architecture = "AlbertForSequenceClassification"
    keras_hub_names = (keras_hub_format.CLASSIFIER_NAME,)
    preprocessor_cls = AlbertPreprocessor
    text_signatures = True

    def __init__(self, backbone, num_classes, preprocessor=None, dropout=0.1,
                 activation=None, label_names=None, **kwargs):
        if not config_checks.is_positive_int(num_classes):
            raise ValueError(
                f"`num_classes` must be an integer >= 1 (1 means "
                f"regression). Received: {num_classes!r}."
            )
        label_names = _checked_label_names(label_names, int(num_classes))
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        self.head_dropout = self._head_dropout(backbone, dropout,
                                               "head_dropout")
        self.head = self._dense_head(backbone, num_classes, "logits",
                                     activation=activation)
        outputs = self.head(self.head_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)
        self.activation = activation
        # A tuple: Keras would wrap a list attribute in a tracking list.
        self._label_names = label_names

    @property
    def label_names(self):
        """The class names in id order, or None."""
        return None if self._label_names is None else list(self._label_names)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds the classifier from a preset (see
        `AlbertTask.from_preset`); a Hugging Face folder whose `id2label`
        names its classes (not transformers' `LABEL_0`, ...) supplies
        `label_names` when `num_classes` agrees."""
        from keras_albert.presets import huggingface
        from keras_albert.presets import loader

        if "label_names" not in kwargs:
            kind, _ = loader.resolve(preset)
            if kind in ("hf_dir", "hf_hub"):
                names = huggingface.read_label_names(
                    loader.localize(preset)[1])
                if names is not None and len(names) == kwargs.get(
                        "num_classes", len(names)):
                    kwargs["label_names"] = names
        return super().from_preset(preset, load_weights=load_weights,
                                   **kwargs)

    def _class_probabilities(self, outputs):
        # A head built with an activation returns its own probabilities.
        if self.activation is None:
            return keras.ops.softmax(outputs, axis=-1)
        return outputs

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` with ALBERT fine-tuning defaults for `"auto"`:
        AdamW at 2e-5, cross-entropy on logits (MSE for regression) and
        accuracy (mean absolute error and Pearson's r for regression)."""
        regression = self.num_classes == 1
        from_logits = self.activation is None
        if optimizer == "auto":
            optimizer = self._fine_tuning_optimizer()
        if loss == "auto":
            loss = (
                keras.losses.MeanSquaredError() if regression
                else keras.losses.SparseCategoricalCrossentropy(
                    from_logits=from_logits
                )
            )
        if metrics == "auto":
            metrics = (
                [keras.metrics.MeanAbsoluteError(), PearsonCorrelation()]
                if regression
                else [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
            )
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def task_metrics(self, x, y, batch_size=32):
        """GLUE's scores on `x` (texts, `(a, b)` pairs, token dicts or a
        dataset of them) against labels `y`.

        Returns:
            For classification `accuracy`, `macro_f1`, `mcc` (and `f1` of
            class 1 with two classes); for regression (`num_classes=1`)
            `pearson`, `spearman` and `mse`.
        """
        import numpy as np

        predictions = np.asarray(
            self.predict(x, batch_size=batch_size, verbose=0))
        y = np.asarray(y)
        if len(predictions) != len(y):
            raise ValueError(
                f"Got {len(predictions)} predictions for {len(y)} labels.")
        if self.num_classes == 1:
            return regression_scores(y.reshape(-1), predictions.reshape(-1))
        return classification_scores(
            y.reshape(-1), predictions.argmax(-1), self.num_classes)

    def _target_classes(self):
        return self.num_classes

    def serving_outputs(self, outputs, inputs, **options):
        """`logits`, `probabilities` and `labels`; a regressor's
        (`num_classes=1`) `scores`."""
        if self.num_classes == 1:
            return {"scores": outputs}
        return self._class_outputs(outputs, self.activation)

    def export_settings(self, **options):
        settings = {"num_classes": self.num_classes}
        if self._label_names is not None:
            settings["label_names"] = self.label_names
        return settings

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "dropout": self.dropout,
                "activation": self.activation,
                "label_names": self.label_names,
            }
        )
        return config


def _checked_label_names(label_names, num_classes):
    """`label_names` as a tuple of `num_classes` distinct strings, or None;
    a ValueError names what is wrong."""
    if label_names is None:
        return None
    if isinstance(label_names, str):
        raise ValueError(
            "`label_names` must be a list of class names, not one string. "
            f"Received: {label_names!r}.")
    names = tuple(str(name) for name in label_names)
    if num_classes == 1:
        raise ValueError(
            "A regressor (num_classes=1) has no classes to name; leave "
            "`label_names` out.")
    if len(names) != num_classes or len(set(names)) != len(names):
        raise ValueError(
            f"`label_names` must be {num_classes} distinct names, one per "
            f"class. Received: {list(names)}.")
    return names
