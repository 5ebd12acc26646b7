"""Position-wise feed-forward network with residual + LayerNorm."""

import keras

from keras_albert.layers.activations import canonical_activation_name
from keras_albert.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertFeedForward(keras.layers.Layer):
    """`LayerNorm(x + Dropout(Dense_H(act(Dense_I(x)))))`.

    Args:
        hidden_dim: int. Model width `H`.
        intermediate_dim: int. Inner width `I` of the feed-forward network.
        activation: str or callable. Defaults to ALBERT's tanh-approximated
            GELU; Hugging Face names such as `"gelu_new"` are understood.
        dropout: float. Dropout on the output projection.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.

    Example:
    ```python
    layer = AlbertFeedForward(hidden_dim=32, intermediate_dim=64)
    y = layer(np.random.rand(2, 5, 32).astype("float32"))  # (2, 5, 32)
    ```
    """

    def __init__(
        self,
        hidden_dim,
        intermediate_dim,
        activation="gelu_approximate",
        dropout=0.0,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.activation = canonical_activation_name(activation)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)
        init = keras.initializers.TruncatedNormal(stddev=initializer_range)
        self.intermediate_dense = keras.layers.Dense(
            intermediate_dim,
            activation=get_activation(activation),
            kernel_initializer=init,
            dtype=self.dtype_policy,
            name="intermediate",
        )
        self.output_dense = keras.layers.Dense(
            hidden_dim, kernel_initializer=init, dtype=self.dtype_policy,
            name="output",
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="output_dropout"
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy,
            name="layer_norm",
        )

    def build(self, input_shape):
        self.intermediate_dense.build((None, None, self.hidden_dim))
        self.output_dense.build((None, None, self.intermediate_dim))
        self.layer_norm.build((None, None, self.hidden_dim))
        self.built = True

    def call(self, x, training=None):
        y = self.output_dense(self.intermediate_dense(x))
        y = self.output_dropout(y, training=training)
        return self.layer_norm(x + y)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "activation": self.activation,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config
