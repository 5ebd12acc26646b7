"""Post-LayerNorm multi-head self-attention as ALBERT uses it."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertSelfAttention(keras.layers.Layer):
    """Multi-head self-attention followed by residual + LayerNorm.

    Computes `LayerNorm(x + Dropout(Dense(Attention(x))))`. On JAX and
    PyTorch the attention itself goes through
    `keras.ops.dot_product_attention`, so the backend can pick a fused
    kernel. On TensorFlow, which has no fused kernel, Keras' version
    scales the `(batch, heads, length, length)` scores and masks them
    through a boolean tensor of that size and a `where`: four extra passes
    over the largest tensor of the layer. The explicit path used there
    instead scales the queries and adds a `(batch, 1, 1, length)` bias, one
    pass, which is what long sequences pay for (see `_explicit_attention`).
    Attention-probability dropout has no fused form, so while it is active
    (`attention_dropout > 0` and training) every backend takes the
    explicit path.

    Args:
        hidden_dim: int. Model width `H`; must be divisible by `num_heads`.
        num_heads: int. Number of attention heads.
        dropout: float. Dropout on the attention output projection.
        attention_dropout: float. Dropout on the attention probabilities.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.

    Example:
    ```python
    layer = AlbertSelfAttention(hidden_dim=32, num_heads=4)
    x = np.random.rand(2, 5, 32).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    y = layer(x, padding_mask=mask)  # (2, 5, 32)
    ```
    """

    def __init__(
        self,
        hidden_dim,
        num_heads,
        dropout=0.0,
        attention_dropout=0.0,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`hidden_dim` ({hidden_dim}) must be divisible by "
                f"`num_heads` ({num_heads})."
            )
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.head_dim = self.hidden_dim // self.num_heads
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)

        def dense(name):
            return keras.layers.Dense(
                hidden_dim,
                kernel_initializer=keras.initializers.TruncatedNormal(
                    stddev=initializer_range
                ),
                dtype=self.dtype_policy,
                name=name,
            )

        self.query_dense = dense("query")
        self.key_dense = dense("key")
        self.value_dense = dense("value")
        self.output_dense = dense("output")
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="output_dropout"
        )
        self.probs_dropout = keras.layers.Dropout(
            attention_dropout, dtype=self.dtype_policy, name="probs_dropout"
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy,
            name="layer_norm",
        )

    def build(self, input_shape):
        shape = (None, None, self.hidden_dim)
        for layer in (
            self.query_dense, self.key_dense, self.value_dense,
            self.output_dense,
        ):
            layer.build(shape)
        self.layer_norm.build(shape)
        self.built = True

    def _split_heads(self, x, batch, length):
        return ops.reshape(x, (batch, length, self.num_heads, self.head_dim))

    def call(self, x, padding_mask=None, training=None):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        q = self._split_heads(self.query_dense(x), batch, length)
        k = self._split_heads(self.key_dense(x), batch, length)
        v = self._split_heads(self.value_dense(x), batch, length)
        mask = None
        if padding_mask is not None:
            # (batch, 1, 1, keys): every query may attend to real keys only.
            # reshape, not [:, None, None, :]: the strided slice has no
            # TFLite builtin and would force the Flex delegate.
            mask = ops.reshape(
                ops.cast(padding_mask, "bool"), (batch, 1, 1, length)
            )
        if (training and self.attention_dropout > 0) or (
            keras.backend.backend() == "tensorflow"
        ):
            context = self._explicit_attention(q, k, v, mask, training)
        else:
            context = ops.dot_product_attention(q, k, v, mask=mask)
        context = ops.reshape(context, (batch, length, self.hidden_dim))
        out = self.output_dropout(self.output_dense(context), training=training)
        return self.layer_norm(x + out)

    def _explicit_attention(self, q, k, v, mask, training):
        """softmax(q k^T / sqrt(d) + bias) v, every pass over the
        `(batch, heads, length, length)` scores counted: the scale goes on
        `q` (`length x hidden` values, not `length x length x heads`), the
        mask is an additive `(batch, 1, 1, keys)` bias (one broadcast add,
        no boolean tensor of the scores' size), softmax in float32 as in
        `keras.ops.dot_product_attention`."""
        scale = ops.cast(1.0 / (self.head_dim ** 0.5), q.dtype)
        scores = ops.einsum("btnh,bsnh->bnts", q * scale, k)
        if scores.dtype != "float32":
            scores = ops.cast(scores, "float32")
        if mask is not None:
            # exp(-1e9 - max) is exactly 0 in float32: padded keys get
            # the same zero weight as with a `where`.
            scores = scores + (1.0 - ops.cast(mask, "float32")) * -1e9
        probs = ops.softmax(scores, axis=-1)
        if probs.dtype != v.dtype:
            probs = ops.cast(probs, v.dtype)
        probs = self.probs_dropout(probs, training=training)
        return ops.einsum("bnts,bsnh->btnh", probs, v)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config
