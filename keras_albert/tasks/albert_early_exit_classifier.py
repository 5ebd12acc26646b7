"""Sequence classification with patience-based early exit (PABEE)."""

import logging

import keras

from keras_albert.layers.patience_early_exit import PatienceEarlyExit
from keras_albert.layers.patience_early_exit import check_patience
from keras_albert.layers.patience_early_exit import (
    check_regression_threshold,
)
from keras_albert.metrics.classification import classification_scores
from keras_albert.metrics.classification import regression_scores
from keras_albert.metrics.pearson_correlation import PearsonCorrelation
from keras_albert.models.albert_backbone import AlbertBackbone
from keras_albert.preprocessing.albert_preprocessor import AlbertPreprocessor
from keras_albert.tasks.albert_classifier import AlbertClassifier
from keras_albert.tasks.albert_classifier import _checked_label_names
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.tasks.class_predictions import ClassPredictions
from keras_albert.utils import config_checks

logger = logging.getLogger("keras_albert")


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertEarlyExitClassifier(ClassPredictions, AlbertTask):
    """ALBERT with a classifier after every layer that stops each input as
    soon as its prediction is stable: fewer layers for easy inputs.

    PABEE (Zhou et al. 2020, "BERT Loses Patience"). ALBERT runs one
    shared block `num_layers` times, so every layer's output lives in the
    same space and an exit costs one small `Dense` per layer. At inference
    an example stops after the first layer at which `patience`
    consecutive exits agree with the exit before them (the same class; for
    a regressor, `num_classes=1`, a change below `regression_threshold`),
    i.e. after at least `patience + 1` layers, and keeps that exit's
    logits. The loop over layers runs inside the graph (also under XLA,
    `jax.jit` and in SavedModels) and stops when every example of the
    batch has exited. `patience >= num_layers` runs the full depth and
    gives exactly the full-depth classifier's logits.

    `predict` returns a dict: `logits` `(batch, num_classes)`,
    `layers_used` `(batch,)` and `exit_logits` `(batch, num_layers,
    num_classes)` (every exit the example ran; zeros after its exit).
    `fit` trains with PABEE's loss: the average of every exit's loss
    weighted by its depth (exit `j` of `L` weighs `j / (1 + ... + L)`);
    `evaluate` scores the logits the model serves. The last exit is the
    classifier head of `AlbertClassifier` (same name and shape), so
    `from_preset` of a fine-tuned classifier (or
    `from_classifier(classifier)`) keeps its full-depth predictions and
    adds fresh exits; with `exits_trainable_only=True` only those train,
    on the frozen fine-tuned model.

    Args:
        backbone: an `AlbertBackbone`.
        num_classes: int. Number of classes; 1 for regression.
        preprocessor: optional `AlbertPreprocessor`.
        patience: int >= 1. Consecutive agreeing exits before an example
            stops: larger is slower and closer to the full depth. Can be
            changed on a built model (`model.patience = 4`).
        regression_threshold: float > 0. For `num_classes=1`: the largest
            change between consecutive exits that counts as agreeing.
        dropout: float. Dropout before every exit head (training only).
        label_names: optional list of `num_classes` class names.
        exits_trainable_only: bool. Freeze the backbone and the last
            exit (a fine-tuned classifier) and train only the other exits;
            the encoder then runs without dropout in training.

    Example:
    ```python
    model = keras_albert.AlbertEarlyExitClassifier.from_preset(
        "fine_tuned_classifier/", patience=6, exits_trainable_only=True)
    model.fit(train_texts, train_labels, batch_size=32)
    out = model.predict(["a fine film"])
    out["logits"], out["layers_used"]  # (1, 2) logits; layers run, (1,)
    ```
    """

    task_name = "early_exit_classifier"
    # transformers has no PABEE model: format="hf" refuses it clearly.
    hf_architecture = None
    preprocessor_cls = AlbertPreprocessor
    text_signatures = True
    head_arguments = ("num_classes",)

    def __init__(self, backbone, num_classes, preprocessor=None, patience=6,
                 regression_threshold=0.1, dropout=0.1, label_names=None,
                 exits_trainable_only=False, **kwargs):
        if not config_checks.is_positive_int(num_classes):
            raise ValueError(
                f"`num_classes` must be an integer >= 1 (1 means "
                f"regression). Received: {num_classes!r}."
            )
        patience = check_patience(patience)
        regression_threshold = check_regression_threshold(
            regression_threshold)
        label_names = _checked_label_names(label_names, int(num_classes))
        inputs = backbone.input
        # The backbone's layers are run one by one, not `backbone(...)`:
        # the exits need the loop over layers.
        embedded = backbone.embeddings(inputs["token_ids"],
                                       inputs["segment_ids"])
        self.head = self._dense_head(backbone, num_classes, "logits")
        self.early_exit = PatienceEarlyExit(
            backbone.encoder, backbone.pooler, self.head,
            patience=patience, regression_threshold=regression_threshold,
            dropout=dropout, initializer_range=backbone.initializer_range,
            exits_trainable_only=exits_trainable_only,
            dtype=backbone.dtype_policy, name="early_exit",
        )
        outputs = self.early_exit(embedded,
                                  padding_mask=inputs["padding_mask"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = int(num_classes)
        self.regression_threshold = regression_threshold
        self.dropout = float(dropout)
        self.exits_trainable_only = bool(exits_trainable_only)
        self._label_names = label_names
        if self.exits_trainable_only:
            backbone.trainable = False
            self.head.trainable = False

    @property
    def patience(self):
        """Consecutive agreeing exits before an example stops. Setting it
        takes effect at the next `predict`/`evaluate` (their compiled
        functions are rebuilt)."""
        return self.early_exit.patience

    @patience.setter
    def patience(self, value):
        self.early_exit.patience = check_patience(value)
        # The loop's stop condition is traced into the compiled functions.
        self.predict_function = None
        self.test_function = None
        self.train_function = None

    @property
    def label_names(self):
        """The class names in id order, or None."""
        return None if self._label_names is None else list(self._label_names)

    def call(self, inputs, training=None, mask=None):
        # What `AlbertBackbone.call` checks (in TensorFlow graphs, by
        # assertions), since this graph runs the backbone's layers itself.
        return super().call(self.backbone.checked_inputs(inputs),
                            training=training, mask=mask)

    # -- building from a classifier --------------------------------------
    @classmethod
    def from_classifier(cls, classifier, patience=6, regression_threshold=0.1,
                        exits_trainable_only=False, dropout=None):
        """An early-exit model whose last exit is `classifier`: a copy of
        its backbone and head (the classifier is left as it is), with
        fresh exits after the other layers.

        Args:
            classifier: an `AlbertClassifier` without an output
                activation.
            patience, regression_threshold, exits_trainable_only: as for
                the constructor.
            dropout: the exits' dropout; None takes the classifier's.
        """
        if not isinstance(classifier, AlbertClassifier):
            raise ValueError(
                "`from_classifier` takes an AlbertClassifier. Received: "
                f"{type(classifier).__name__}.")
        if classifier.activation is not None:
            raise ValueError(
                "Early exit compares logits; this classifier's head has "
                f"activation={classifier.activation!r}. Use a classifier "
                "built with activation=None.")
        source = classifier.backbone
        backbone = AlbertBackbone.from_config(source.get_config())
        backbone.set_weights(source.get_weights())
        model = cls(
            backbone, num_classes=classifier.num_classes,
            preprocessor=classifier.preprocessor, patience=patience,
            regression_threshold=regression_threshold,
            dropout=classifier.dropout if dropout is None else dropout,
            label_names=classifier.label_names,
            exits_trainable_only=exits_trainable_only,
        )
        model.head.set_weights(classifier.head.get_weights())
        logger.warning(
            "%s: backbone and last exit from %s; the exits after layers "
            "1-%d initialised fresh.", cls.__name__, classifier.name,
            backbone.num_layers - 1)
        return model

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds the model from a preset (see `AlbertTask.from_preset`).

        A preset of this class is restored whole. Any other source (a
        fine-tuned `AlbertClassifier` preset, a backbone, a named or
        converted checkpoint) is loaded as `AlbertClassifier.from_preset`
        loads it, and becomes the last exit (`from_classifier`); the other
        exits start fresh.
        """
        from keras_albert.presets import keras_albert_format
        from keras_albert.presets import loader

        kind, where = loader.resolve(preset)
        if kind == "keras_albert":
            saved = keras_albert_format.load_task_config(where)
            if saved is not None and saved.get("registered_name") == (
                    keras.saving.get_registered_name(cls)):
                return super().from_preset(preset, load_weights=load_weights,
                                           **kwargs)
        exit_arguments = {
            name: kwargs.pop(name)
            for name in ("patience", "regression_threshold",
                         "exits_trainable_only")
            if name in kwargs
        }
        classifier = AlbertClassifier.from_preset(
            preset, load_weights=load_weights, **kwargs)
        return cls.from_classifier(classifier, **exit_arguments)

    # -- training ---------------------------------------------------------
    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` with ALBERT fine-tuning defaults for `"auto"` (as
        `AlbertClassifier`: AdamW at 2e-5, cross-entropy on logits or MSE
        for regression, accuracy or MAE and Pearson's r). `loss` is the
        loss of one exit; training averages it over the exits (weights
        proportional to depth), evaluation scores the served logits."""
        regression = self.num_classes == 1
        if optimizer == "auto":
            optimizer = self._fine_tuning_optimizer()
        if loss == "auto":
            loss = (
                keras.losses.MeanSquaredError() if regression
                else keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True)
            )
        if metrics == "auto":
            metrics = (
                [keras.metrics.MeanAbsoluteError(), PearsonCorrelation()]
                if regression
                else [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
            )
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """PABEE's loss in training: `sum_j j * loss_j / sum_j j` over the
        exits `j = 1..L`; otherwise the loss of the served logits."""
        if not training:
            return super().compute_loss(x, y, y_pred["logits"],
                                        sample_weight, training=training)
        exit_logits = y_pred["exit_logits"]
        num_layers = self.backbone.num_layers
        total = num_layers * (num_layers + 1) / 2
        # Each term carries the regularisation losses once; the weights
        # sum to 1, so the total carries them once.
        return sum(
            (j + 1) / total * super(AlbertEarlyExitClassifier,
                                    self).compute_loss(
                x, y, exit_logits[:, j], sample_weight, training=training)
            for j in range(num_layers)
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """The compiled metrics on the served `logits` (in training, the
        last exit's)."""
        return super().compute_metrics(x, y, y_pred["logits"], sample_weight)

    # -- predictions -------------------------------------------------------
    def _class_probabilities(self, outputs):
        # The logits each example exited with.
        return keras.ops.softmax(outputs["logits"], axis=-1)

    def task_metrics(self, x, y, batch_size=32):
        """GLUE's scores (as `AlbertClassifier.task_metrics`) of the
        early-exit predictions on `x` against `y`, plus
        `mean_layers_used` (layers per example, of `num_layers`)."""
        import numpy as np

        outputs = self.predict(x, batch_size=batch_size, verbose=0)
        predictions = np.asarray(outputs["logits"])
        y = np.asarray(y)
        if len(predictions) != len(y):
            raise ValueError(
                f"Got {len(predictions)} predictions for {len(y)} labels.")
        if self.num_classes == 1:
            scores = regression_scores(y.reshape(-1),
                                       predictions.reshape(-1))
        else:
            scores = classification_scores(
                y.reshape(-1), predictions.argmax(-1), self.num_classes)
        scores["mean_layers_used"] = float(
            np.mean(outputs["layers_used"]))
        return scores

    def _target_classes(self):
        return self.num_classes

    # -- serving -------------------------------------------------------------
    def serving_outputs(self, outputs, inputs, **options):
        """`logits`, `probabilities`, `labels` (a regressor's `scores`)
        and `layers_used`."""
        if self.num_classes == 1:
            named = {"scores": outputs["logits"]}
        else:
            named = self._class_outputs(outputs["logits"])
        named["layers_used"] = outputs["layers_used"]
        return named

    def export_settings(self, **options):
        settings = {"num_classes": self.num_classes,
                    "patience": self.patience,
                    "num_layers": self.backbone.num_layers}
        if self.num_classes == 1:
            settings["regression_threshold"] = self.regression_threshold
        if self._label_names is not None:
            settings["label_names"] = self.label_names
        return settings

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "patience": self.patience,
                "regression_threshold": self.regression_threshold,
                "dropout": self.dropout,
                "label_names": self.label_names,
                "exits_trainable_only": self.exits_trainable_only,
            }
        )
        return config
