"""One ALBERT transformer block: self-attention then feed-forward."""

import keras

from keras_albert.layers.activations import canonical_activation_name
from keras_albert.layers.albert_feed_forward import AlbertFeedForward
from keras_albert.layers.albert_self_attention import AlbertSelfAttention


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertTransformerBlock(keras.layers.Layer):
    """Post-LayerNorm transformer block (attention, then feed-forward).

    The block owns an `AlbertSelfAttention` and an `AlbertFeedForward`.
    For the paper's partial-sharing ablations the owning encoder may hand in
    an existing `attention_layer` or `feedforward_layer`, which several blocks
    then share; Keras de-duplicates shared weights when counting, training
    and saving, so a shared sublayer is stored once.

    Args:
        hidden_dim: int. Model width `H`.
        num_heads: int. Number of attention heads.
        intermediate_dim: int. Inner width of the feed-forward network.
        activation: str or callable. Feed-forward activation; defaults to
            ALBERT's tanh-approximated GELU.
        dropout: float. Dropout on both residual branches.
        attention_dropout: float. Dropout on attention probabilities.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.
        attention_layer: optional `AlbertSelfAttention` to share.
        feedforward_layer: optional `AlbertFeedForward` to share.

    Example:
    ```python
    block = AlbertTransformerBlock(hidden_dim=32, num_heads=4,
                                   intermediate_dim=64)
    x = np.random.rand(2, 5, 32).astype("float32")
    y = block(x, padding_mask=np.ones((2, 5), "int32"))
    ```
    """

    def __init__(
        self,
        hidden_dim,
        num_heads,
        intermediate_dim,
        activation="gelu_approximate",
        dropout=0.0,
        attention_dropout=0.0,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        attention_layer=None,
        feedforward_layer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.activation = canonical_activation_name(activation)
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)
        self.attention = attention_layer or AlbertSelfAttention(
            hidden_dim=hidden_dim,
            num_heads=num_heads,
            dropout=dropout,
            attention_dropout=attention_dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.feedforward = feedforward_layer or AlbertFeedForward(
            hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim,
            activation=activation,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=self.dtype_policy,
            name="feedforward",
        )

    def build(self, input_shape):
        shape = (None, None, self.hidden_dim)
        if not self.attention.built:
            self.attention.build(shape)
        if not self.feedforward.built:
            self.feedforward.build(shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        x = self.attention(x, padding_mask=padding_mask, training=training)
        return self.feedforward(x, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        # Shared sublayers are not part of the config: the encoder that
        # shares them re-creates the sharing when it is rebuilt.
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "activation": self.activation,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config
