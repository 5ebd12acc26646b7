"""ALBERT's encoder: `num_layers` steps over a few shared blocks."""

import contextlib

import keras
from keras import ops

from keras_albert.layers.activations import canonical_activation_name
from keras_albert.layers.albert_feed_forward import AlbertFeedForward
from keras_albert.layers.albert_self_attention import AlbertSelfAttention
from keras_albert.layers.albert_transformer_block import (
    AlbertTransformerBlock,
)
from keras_albert.utils import compat

SHARING_STRATEGIES = ("all", "attention", "ffn", "none")


def _eager_jax(x):
    """True for a concrete JAX array: outside `jax.jit` a `fori_loop` is
    traced and compiled anew on every call (~1 s for a tiny model on CPU),
    while the unrolled steps run as they are. Under `jit` (Keras' fit and
    predict) the loop is traced once as part of the step, where it saves
    compile time."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)


def _tensorflow_xla():
    """True while TensorFlow traces for XLA, which cannot compile the
    gradient of a `tf.while_loop` over these blocks (per-step values go
    to lists of unknown length, and shapes inside become dynamic), so
    training under `jit_compile=True` unrolls the layers instead."""
    return keras.backend.backend() == "tensorflow" and (
        compat.in_xla_context()
    )


@keras.saving.register_keras_serializable(package="keras_albert")
class SharedTransformerEncoder(keras.layers.Layer):
    """Runs `num_layers` transformer steps with cross-layer sharing.

    As in Google's ALBERT, the parameters form `num_hidden_groups` groups of
    `inner_group_num` blocks. Layer `i` runs every block of group
    `(i * num_hidden_groups) // num_layers` in turn, which equals
    `i // (num_layers // num_hidden_groups)` when the division is exact and
    matches the original `int(i / num_layers * num_hidden_groups)`.

    `sharing` selects the paper's ablations (ALBERT paper, Table 4):
    - `"all"`: attention and feed-forward shared within a group (default).
    - `"attention"`: attention shared within a group, feed-forward per layer.
    - `"ffn"`: feed-forward shared within a group, attention per layer.
    - `"none"`: nothing shared; every layer has its own block (BERT-like).

    Args:
        num_layers: int. Number of transformer steps.
        hidden_dim: int. Model width `H`.
        num_heads: int. Attention heads.
        intermediate_dim: int. Feed-forward inner width.
        num_hidden_groups: int. Number of parameter groups.
        inner_group_num: int. Blocks per group, run in sequence each layer.
        sharing: str. One of `"all"`, `"attention"`, `"ffn"`, `"none"`.
        activation: str or callable. Feed-forward activation.
        dropout: float. Residual-branch dropout.
        attention_dropout: float. Attention-probability dropout.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.
        loop_layers: bool. Run consecutive layers that share their blocks
            as one `keras.ops.fori_loop` instead of unrolling them, so XLA
            and JAX compile one block, not `num_layers` copies (much faster
            first call for deep shared models). Used when no dropout is
            active and not training under TensorFlow's XLA; otherwise
            layers are unrolled. See also `unrolled()`.

    Call arguments:
        x: float tensor `(batch, length, hidden_dim)`.
        padding_mask: int/bool tensor `(batch, length)`, 1 for real tokens.
        return_hidden_states: bool. Also return the list of the input and
            every layer's output (`num_layers + 1` tensors).

    Example:
    ```python
    encoder = SharedTransformerEncoder(
        num_layers=12, hidden_dim=32, num_heads=4, intermediate_dim=64,
    )
    x = np.random.rand(2, 5, 32).astype("float32")
    y = encoder(x, padding_mask=np.ones((2, 5), "int32"))
    len(encoder.blocks)  # 1: twelve steps through one shared block
    ```
    """

    def __init__(
        self,
        num_layers,
        hidden_dim,
        num_heads,
        intermediate_dim,
        num_hidden_groups=1,
        inner_group_num=1,
        sharing="all",
        activation="gelu_approximate",
        dropout=0.0,
        attention_dropout=0.0,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        loop_layers=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if sharing not in SHARING_STRATEGIES:
            raise ValueError(
                f"`sharing` must be one of {SHARING_STRATEGIES}. Received: "
                f"{sharing!r}."
            )
        if not 1 <= num_hidden_groups <= num_layers:
            raise ValueError(
                "`num_hidden_groups` must be between 1 and `num_layers` "
                f"({num_layers}). Received: {num_hidden_groups}."
            )
        if inner_group_num < 1:
            raise ValueError(
                f"`inner_group_num` must be >= 1. Received: {inner_group_num}."
            )
        self.num_layers = int(num_layers)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.num_hidden_groups = int(num_hidden_groups)
        self.inner_group_num = int(inner_group_num)
        self.sharing = sharing
        self.activation = canonical_activation_name(activation)
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)
        self.loop_layers = bool(loop_layers)

        common = dict(
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=self.dtype_policy,
        )
        shared_attention = {}
        shared_feedforward = {}
        if sharing == "attention":
            for g in range(num_hidden_groups):
                for k in range(inner_group_num):
                    shared_attention[g, k] = AlbertSelfAttention(
                        hidden_dim, num_heads, dropout=dropout,
                        attention_dropout=attention_dropout,
                        name=f"group_{g}_inner_{k}_attention", **common,
                    )
        if sharing == "ffn":
            for g in range(num_hidden_groups):
                for k in range(inner_group_num):
                    shared_feedforward[g, k] = AlbertFeedForward(
                        hidden_dim, intermediate_dim, activation=activation,
                        dropout=dropout,
                        name=f"group_{g}_inner_{k}_feedforward", **common,
                    )

        # `block_index[i][k]` is the index into `self.blocks` that layer i,
        # inner step k runs.
        self.blocks = []
        self.block_index = []
        keys = {}
        for i in range(num_layers):
            group = self.group_of_layer(i)
            row = []
            for k in range(inner_group_num):
                key = (group, k) if sharing == "all" else (i, k)
                if key not in keys:
                    keys[key] = len(self.blocks)
                    prefix = "group" if sharing == "all" else "layer"
                    self.blocks.append(
                        AlbertTransformerBlock(
                            hidden_dim, num_heads, intermediate_dim,
                            activation=activation, dropout=dropout,
                            attention_dropout=attention_dropout,
                            attention_layer=shared_attention.get((group, k)),
                            feedforward_layer=shared_feedforward.get(
                                (group, k)
                            ),
                            name=f"{prefix}_{key[0]}_inner_{k}",
                            **common,
                        )
                    )
                row.append(keys[key])
            self.block_index.append(row)
        # Runs of consecutive layers that execute the same blocks.
        self._runs = []
        for row in self.block_index:
            if self._runs and self._runs[-1][1] == row:
                self._runs[-1][0] += 1
            else:
                self._runs.append([1, row])

    def group_of_layer(self, layer_index):
        """The parameter group that layer `layer_index` uses."""
        return (layer_index * self.num_hidden_groups) // self.num_layers

    @contextlib.contextmanager
    def unrolled(self):
        """Context manager: calls inside it run every layer unrolled, as
        if `loop_layers=False`; `loop_layers` is restored on exit.

        For tracing graphs that cannot hold a loop over shared weights,
        e.g. TFLite, whose converter cannot freeze the variables a `While`
        body reads. The weights stay shared either way.

        Example:
        ```python
        with backbone.encoder.unrolled():
            concrete = serve.get_concrete_function()
        ```
        """
        loop_layers = self.loop_layers
        self.loop_layers = False
        try:
            yield self
        finally:
            self.loop_layers = loop_layers

    def build(self, input_shape):
        for block in self.blocks:
            block.build((None, None, self.hidden_dim))
        self.built = True

    def call(
        self, x, padding_mask=None, training=None, return_hidden_states=False
    ):
        dropout_active = training and (
            self.dropout > 0 or self.attention_dropout > 0
        )
        if self.loop_layers and not return_hidden_states and not (
            dropout_active or (training and _tensorflow_xla())
        ) and not _eager_jax(x):
            return self._looped_call(x, padding_mask)
        hidden_states = [x]
        for row in self.block_index:
            for index in row:
                x = self.blocks[index](
                    x, padding_mask=padding_mask, training=training
                )
            hidden_states.append(x)
        if return_hidden_states:
            return x, hidden_states
        return x

    def _looped_call(self, x, padding_mask):
        for count, row in self._runs:
            def body(_, x, row=row):
                for index in row:
                    x = self.blocks[index](x, padding_mask=padding_mask)
                return x

            if count == 1:
                x = body(0, x)
            else:
                x = ops.fori_loop(0, count, body, x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x, padding_mask=None, training=None,
                            return_hidden_states=False):
        output = keras.KerasTensor(x.shape, dtype=self.compute_dtype)
        if not return_hidden_states:
            return output
        # The embedding output, then one state per layer.
        states = [keras.KerasTensor(x.shape, dtype=self.compute_dtype)
                  for _ in range(self.num_layers + 1)]
        return output, states

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_hidden_groups": self.num_hidden_groups,
                "inner_group_num": self.inner_group_num,
                "sharing": self.sharing,
                "activation": self.activation,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
                "loop_layers": self.loop_layers,
            }
        )
        return config
