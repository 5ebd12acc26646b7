"""ALBERT's masked-language-model head, tied to the token embeddings."""

import keras
from keras import ops

from keras_albert.layers.activations import canonical_activation_name
from keras_albert.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="keras_albert")
class MaskedLMHead(keras.layers.Layer):
    """Dense `H -> E`, activation, LayerNorm, then decode with the tied table.

    Logits are `transform(x) @ token_embeddings.T + bias`, where
    `token_embeddings` is the `V x E` table of the `FactorizedEmbedding`
    given as `embedding_layer`; the head owns only the transform and bias.

    Args:
        embedding_layer: the backbone's `FactorizedEmbedding` to tie to.
        activation: str or callable. Transform activation (ALBERT: the
            model's hidden activation, tanh-approximated GELU).
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.

    Call arguments:
        sequence_output: `(batch, length, H)` encoder output.
        mask_positions: optional int `(batch, num_predictions)`; when given,
            only these positions are decoded (the pretraining layout).

    Example:
    ```python
    backbone = AlbertBackbone(**tiny_config)
    head = MaskedLMHead(backbone.embeddings)
    logits = head(np.random.rand(1, 4, 32).astype("float32"),
                  mask_positions=np.array([[1, 2]]))  # (1, 2, V)
    ```
    """

    def __init__(
        self,
        embedding_layer,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.embedding_layer = embedding_layer
        self.activation = canonical_activation_name(activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)
        self.vocabulary_size = embedding_layer.vocabulary_size
        self.embedding_dim = embedding_layer.embedding_dim
        self.dense = keras.layers.Dense(
            self.embedding_dim,
            activation=get_activation(activation),
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=initializer_range
            ),
            dtype=self.dtype_policy,
            name="transform",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy,
            name="layer_norm",
        )

    def build(self, sequence_output_shape, mask_positions_shape=None):
        hidden_dim = sequence_output_shape[-1]
        self.dense.build((None, None, hidden_dim))
        self.layer_norm.build((None, None, self.embedding_dim))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocabulary_size,),
            initializer="zeros",
        )
        self.built = True

    def call(self, sequence_output, mask_positions=None):
        x = sequence_output
        if mask_positions is not None:
            x = ops.take_along_axis(
                x, ops.cast(mask_positions, "int32")[:, :, None], axis=1
            )
        x = self.layer_norm(self.dense(x))
        table = ops.cast(
            ops.convert_to_tensor(self.embedding_layer.token_embeddings),
            x.dtype,
        )
        logits = ops.matmul(x, ops.transpose(table))
        bias = ops.convert_to_tensor(self.output_bias)
        return logits + ops.cast(bias, logits.dtype)

    def compute_output_shape(self, sequence_output_shape,
                             mask_positions_shape=None):
        length = (
            mask_positions_shape[1] if mask_positions_shape is not None
            else sequence_output_shape[1]
        )
        return (sequence_output_shape[0], length, self.vocabulary_size)

    def get_config(self):
        # The tied embedding layer is passed in by the owning task model.
        config = super().get_config()
        config.update(
            {
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config
