"""The sentence-order-prediction (SOP) head."""

import keras


@keras.saving.register_keras_serializable(package="keras_albert")
class SentenceOrderHead(keras.layers.Layer):
    """Classifies the pooled `[CLS]` vector: in order (0) or swapped (1).

    The pooled output already went through the backbone's tanh pooler, so
    the head is dropout plus a single `H -> 2` dense layer, as in ALBERT's
    `cls/seq_relationship`.

    Args:
        num_classes: int. 2 for SOP.
        dropout: float. Dropout on the pooled vector.
        initializer_range: float. Stddev of the truncated-normal init.

    Example:
    ```python
    head = SentenceOrderHead()
    logits = head(np.random.rand(3, 32).astype("float32"))  # (3, 2)
    ```
    """

    def __init__(self, num_classes=2, dropout=0.0, initializer_range=0.02,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)
        self.initializer_range = float(initializer_range)
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=initializer_range
            ),
            dtype=self.dtype_policy,
            name="dense",
        )

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.built = True

    def call(self, pooled_output, training=None):
        x = self.dropout_layer(pooled_output, training=training)
        return self.dense(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_classes,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "dropout": self.dropout,
                "initializer_range": self.initializer_range,
            }
        )
        return config
