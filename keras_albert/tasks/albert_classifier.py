"""Sequence classification and regression on ALBERT's pooled output."""

import keras

from keras_albert.metrics.classification import classification_scores
from keras_albert.metrics.classification import regression_scores
from keras_albert.metrics.pearson_correlation import PearsonCorrelation
from keras_albert.preprocessing.albert_preprocessor import AlbertPreprocessor
from keras_albert.presets import keras_hub_format
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.utils import config_checks


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertClassifier(AlbertTask):
    """ALBERT with a dense head on the pooled `[CLS]` vector.

    Outputs logits `(batch, num_classes)`. With `num_classes=1` it is a
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

    Example:
    ```python
    classifier = keras_albert.AlbertClassifier.from_preset(
        "base", num_classes=2)
    classifier.fit(["great film", "dull plot"], [1, 0], batch_size=2)
    classifier.predict(["what a movie"])
    ```
    """

    task_name = "classifier"
    hf_architecture = "AlbertForSequenceClassification"
    keras_hub_names = (keras_hub_format.CLASSIFIER_NAME,)
    preprocessor_cls = AlbertPreprocessor
    text_signatures = True

    def __init__(self, backbone, num_classes, preprocessor=None, dropout=0.1,
                 activation=None, **kwargs):
        if not config_checks.is_positive_int(num_classes):
            raise ValueError(
                f"`num_classes` must be an integer >= 1 (1 means "
                f"regression). Received: {num_classes!r}."
            )
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        self.head_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="head_dropout")
        self.head = keras.layers.Dense(
            num_classes,
            activation=activation,
            kernel_initializer=self._head_initializer(backbone),
            dtype=backbone.dtype_policy,
            name="logits",
        )
        outputs = self.head(self.head_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)
        self.activation = activation

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

    def serving_outputs(self, outputs, inputs, **options):
        """`logits`, `probabilities` and `labels`; a regressor's
        (`num_classes=1`) `scores`."""
        if self.num_classes == 1:
            return {"scores": outputs}
        return self._class_outputs(outputs, self.activation)

    def export_settings(self, **options):
        return {"num_classes": self.num_classes}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "dropout": self.dropout,
                "activation": self.activation,
            }
        )
        return config
