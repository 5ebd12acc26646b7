"""ALBERT's pretraining model: masked LM + sentence-order prediction."""

import keras

from keras_albert.layers.sentence_order_head import SentenceOrderHead
from keras_albert.tasks.albert_masked_lm import encode
from keras_albert.tasks.albert_masked_lm import masked_lm_inputs
from keras_albert.tasks.albert_masked_lm import tied_mlm_head
from keras_albert.tasks.albert_task import AlbertTask


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertPretrainer(AlbertTask):
    """Backbone + MLM head + SOP head, trained jointly as in the paper.

    Inputs: `token_ids`, `segment_ids`, `padding_mask`, `mask_positions`.
    Outputs: `{"mlm": (batch, num_predictions, V) logits,
    "sop": (batch, 2) logits}`. Targets are `{"mlm": mask_ids,
    "sop": labels}` (0 = in order, 1 = swapped) with sample weights
    `{"mlm": mask_weights, "sop": ones}` so padded prediction slots do not count. The
    total loss is the sum of both cross-entropies; metrics report
    `mlm_accuracy` and `sop_accuracy`.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: optional pretraining preprocessor.
        sop_dropout: float. Dropout before the SOP head.

    Example:
    ```python
    pretrainer = keras_albert.AlbertPretrainer(backbone)
    pretrainer.compile()
    pretrainer.fit(x, {"mlm": mask_ids, "sop": sop_labels},
                   sample_weight={"mlm": mask_weights,
                                  "sop": np.ones(len(sop_labels))})
    ```
    """

    task_name = "pretrainer"
    hf_architecture = "AlbertForPreTraining"
    # Pretraining heads are not served; export the backbone instead.
    exportable = False

    def __init__(self, backbone, preprocessor=None, sop_dropout=0.0,
                 **kwargs):
        inputs = masked_lm_inputs()
        outputs = encode(backbone, inputs)
        self.mlm_head = tied_mlm_head(backbone)
        self.sop_head = SentenceOrderHead(
            dropout=sop_dropout,
            initializer_range=backbone.initializer_range,
            dtype=backbone.dtype_policy,
            name="sop_head",
        )
        mlm = self.mlm_head(
            outputs["sequence_output"], mask_positions=inputs["mask_positions"]
        )
        sop = self.sop_head(outputs["pooled_output"])
        # Identity layers give the outputs stable names for losses/metrics.
        mlm = keras.layers.Identity(name="mlm", dtype=backbone.dtype_policy)(mlm)
        sop = keras.layers.Identity(name="sop", dtype=backbone.dtype_policy)(sop)
        super().__init__(
            inputs=inputs, outputs={"mlm": mlm, "sop": sop}, **kwargs
        )
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.sop_dropout = float(sop_dropout)

    def compile(self, optimizer="auto", loss="auto", weighted_metrics="auto",
                **kwargs):
        """Defaults: LAMB at 1.76e-3, MLM + SOP cross-entropy, accuracies."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Lamb(1.76e-3)
        if loss == "auto":
            loss = {
                "mlm": keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
                "sop": keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
            }
        if weighted_metrics == "auto":
            weighted_metrics = {
                "mlm": [keras.metrics.SparseCategoricalAccuracy(
                    name="mlm_accuracy")],
                "sop": [keras.metrics.SparseCategoricalAccuracy(
                    name="sop_accuracy")],
            }
        super().compile(optimizer=optimizer, loss=loss,
                        weighted_metrics=weighted_metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["sop_dropout"] = self.sop_dropout
        return config
