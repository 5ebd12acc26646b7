"""ALBERT's factorized embedding: small tables of size E, projected to H."""

import keras
from keras import ops

from keras_albert.utils.input_validation import check_id_ranges


@keras.saving.register_keras_serializable(package="keras_albert")
class FactorizedEmbedding(keras.layers.Layer):
    """Token, position and segment embeddings of size E, projected to H.

    ALBERT decouples the vocabulary embedding size `E` from the hidden size
    `H`: the tables are `V x E`, `P x E` and `S x E`, summed, normalized
    (LayerNorm, epsilon 1e-12), dropped out, then mapped `E -> H` by a dense
    projection. The token table is exposed as `token_embeddings` so an MLM
    head can tie its decoder to it.

    Args:
        vocabulary_size: int. `V`, the number of token ids.
        embedding_dim: int. `E`, the width of the embedding tables.
        hidden_dim: int. `H`, the width of the projected output.
        max_sequence_length: int. `P`, the number of learned positions.
        num_segments: int. `S`, the number of segment (token type) ids.
        dropout: float. Dropout applied after the LayerNorm.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.
        validate_inputs: bool. Check ids against the tables when inputs
            are concrete (eager), raising a clear error instead of silently
            gathering out of range.

    Example:
    ```python
    layer = FactorizedEmbedding(
        vocabulary_size=100, embedding_dim=16, hidden_dim=32,
        max_sequence_length=8,
    )
    token_ids = np.array([[2, 10, 11, 3]])
    segment_ids = np.zeros((1, 4), "int32")
    hidden = layer(token_ids, segment_ids)  # (1, 4, 32)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        hidden_dim,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.0,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        validate_inputs=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.max_sequence_length = int(max_sequence_length)
        self.num_segments = int(num_segments)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)
        self.validate_inputs = bool(validate_inputs)

        init = keras.initializers.TruncatedNormal(stddev=initializer_range)
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy,
            name="layer_norm",
        )
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.projection = keras.layers.Dense(
            hidden_dim, kernel_initializer=init, dtype=self.dtype_policy,
            name="projection",
        )
        self._init = init

    def build(self, token_ids_shape=None, segment_ids_shape=None):
        self.token_embeddings = self.add_weight(
            name="token_embeddings",
            shape=(self.vocabulary_size, self.embedding_dim),
            initializer=self._init,
        )
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_sequence_length, self.embedding_dim),
            initializer=self._init,
        )
        self.segment_embeddings = self.add_weight(
            name="segment_embeddings",
            shape=(self.num_segments, self.embedding_dim),
            initializer=self._init,
        )
        self.layer_norm.build((None, None, self.embedding_dim))
        self.projection.build((None, None, self.embedding_dim))
        self.built = True

    def call(self, token_ids, segment_ids=None, training=None):
        if segment_ids is None:
            segment_ids = ops.zeros_like(token_ids)
        if self.validate_inputs:
            check_id_ranges(
                token_ids, segment_ids, self.vocabulary_size,
                self.num_segments,
            )
        token_ids = ops.cast(token_ids, "int32")
        segment_ids = ops.cast(segment_ids, "int32")
        length = ops.shape(token_ids)[1]
        # convert_to_tensor: JAX no longer converts Variables implicitly.
        tokens = ops.convert_to_tensor(self.token_embeddings)
        segments = ops.convert_to_tensor(self.segment_embeddings)
        positions = ops.convert_to_tensor(self.position_embeddings)
        x = ops.take(tokens, token_ids, axis=0)
        x = x + ops.take(segments, segment_ids, axis=0)
        positions = ops.slice(positions, (0, 0), (length, self.embedding_dim))
        x = x + ops.expand_dims(positions, 0)
        x = self.layer_norm(x)
        x = self.dropout_layer(x, training=training)
        return self.projection(x)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return tuple(token_ids_shape) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
                "validate_inputs": self.validate_inputs,
            }
        )
        return config
