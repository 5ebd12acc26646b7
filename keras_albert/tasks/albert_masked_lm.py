"""ALBERT with its masked-language-model head."""

import keras

from keras_albert.layers.masked_lm_head import MaskedLMHead
from keras_albert.tasks.albert_task import AlbertTask


def masked_lm_inputs():
    """Keras inputs of the pretraining layout (ids, segments, mask, where)."""
    return {
        "token_ids": keras.Input((None,), dtype="int32", name="token_ids"),
        "segment_ids": keras.Input((None,), dtype="int32", name="segment_ids"),
        "padding_mask": keras.Input(
            (None,), dtype="int32", name="padding_mask"
        ),
        "mask_positions": keras.Input(
            (None,), dtype="int32", name="mask_positions"
        ),
    }


def tied_mlm_head(backbone):
    """The backbone's MLM head, decoding with its token embedding table."""
    return MaskedLMHead(
        backbone.embeddings,
        activation=backbone.activation,
        layer_norm_epsilon=backbone.layer_norm_epsilon,
        initializer_range=backbone.initializer_range,
        dtype=backbone.dtype_policy,
        name="mlm_head",
    )


def encode(backbone, inputs):
    """Runs the backbone on the three token inputs of `inputs`."""
    return backbone(
        {k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    )


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertMaskedLM(AlbertTask):
    """Predicts the tokens at `mask_positions` (MLM head tied to embeddings).

    Inputs are the backbone's three plus `mask_positions`
    `(batch, num_predictions)`; the output is logits
    `(batch, num_predictions, vocabulary_size)`.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: optional preprocessor (masking comes with pretraining
            data tools).

    Example:
    ```python
    mlm = keras_albert.AlbertMaskedLM(backbone)
    logits = mlm.predict({
        "token_ids": np.array([[2, 4, 20, 3]]),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[1]]),
    })  # (1, 1, vocabulary_size)
    ```
    """

    task_name = "masked_lm"
    hf_architecture = "AlbertForMaskedLM"
    # Pretraining heads are not served; export the backbone instead.
    exportable = False

    def __init__(self, backbone, preprocessor=None, **kwargs):
        inputs = masked_lm_inputs()
        outputs = encode(backbone, inputs)
        self.mlm_head = tied_mlm_head(backbone)
        logits = self.mlm_head(
            outputs["sequence_output"], mask_positions=inputs["mask_positions"]
        )
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor

    def compile(self, optimizer="auto", loss="auto", weighted_metrics="auto",
                **kwargs):
        """Defaults: LAMB at 1.76e-3 (the paper's), cross-entropy on logits,
        accuracy weighted by `mask_weights` passed as sample weights."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Lamb(1.76e-3)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [
                keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")
            ]
        super().compile(optimizer=optimizer, loss=loss,
                        weighted_metrics=weighted_metrics, **kwargs)
