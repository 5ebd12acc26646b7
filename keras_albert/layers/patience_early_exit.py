"""Patience-based early exit (PABEE) over ALBERT's shared encoder."""

import keras
from keras import ops

from keras_albert.layers.arg_max import argmax_int32
from keras_albert.layers.shared_transformer_encoder import _eager_jax


def _concrete(x):
    """True when `x` holds values now (eager TensorFlow, eager JAX,
    PyTorch): the layer loop is then a plain Python loop that stops as
    soon as every example has exited. In a traced graph (`tf.function`,
    XLA, `jax.jit`) it is a `keras.ops.while_loop` with the same stop
    condition."""
    backend = keras.backend.backend()
    if backend == "torch":
        return True
    if backend == "jax":
        return _eager_jax(x)
    import tensorflow as tf

    return tf.executing_eagerly()


def _while_loop(cond, body, state, concrete):
    if concrete:
        while bool(keras.ops.convert_to_numpy(cond(*state))):
            state = body(*state)
        return state
    return ops.while_loop(cond, body, state)


@keras.saving.register_keras_serializable(package="keras_albert")
class PatienceEarlyExit(keras.layers.Layer):
    """Runs a shared encoder layer by layer with a classifier after each
    layer, and stops each example once its prediction is stable.

    PABEE (Zhou et al. 2020, "BERT Loses Patience: Fast and Robust
    Inference with Early Exit"): after layer `j` the pooled `[CLS]` vector
    goes to exit `j`. At inference an example exits after the first layer
    at which `patience` consecutive exits have agreed with the exit before
    them (for classification the same argmax; for regression, with one
    output, a change smaller than `regression_threshold`), so it runs at
    least `patience + 1` layers; it keeps the logits of the layer it exits
    at. The batch stops when every example has exited, and with `patience
    >= num_layers` every example runs the full depth. Exit layers are
    computed in a loop over the encoder's shared blocks
    (`encoder.block_index`) inside the graph: a `keras.ops.while_loop`
    under `tf.function`, XLA and `jax.jit`, a Python loop that breaks
    when run eagerly.

    In training every layer runs and every exit's logits are returned, for
    the PABEE loss (a weighted average of the exits' losses).

    The encoder, the pooler and the last exit's head belong to the model
    that owns this layer (an `AlbertEarlyExitClassifier` passes its
    backbone's encoder and pooler and its classifier head); the layer owns
    the heads of the other exits, one `Dense` per layer, stacked into one
    `(num_layers - 1, hidden_dim, num_classes)` kernel so that the loop
    can pick layer `j`'s head.

    Args:
        encoder: the `SharedTransformerEncoder` to run.
        pooler: the `Dense` applied to each layer's `[CLS]` vector.
        head: the `Dense(num_classes)` of the last exit.
        patience: int >= 1. Consecutive agreeing exits needed to stop.
        regression_threshold: float > 0. With one output (regression), the
            largest change between consecutive exits that counts as
            agreeing.
        dropout: float. Dropout on the pooled vector before every exit
            head (training only).
        initializer_range: float. Stddev of the exit heads' init.
        exits_trainable_only: bool. In training, run the encoder in
            inference mode (no dropout), as for exit heads trained on a
            frozen fine-tuned model.

    Call arguments:
        x: float tensor `(batch, length, hidden_dim)`: embeddings.
        padding_mask: int/bool tensor `(batch, length)`, 1 for real tokens.
        training: bool. Run every layer and every exit.

    Returns:
        A dict: `logits` `(batch, num_classes)` (the exit each example
        took; in training the last layer's), `layers_used` `(batch,)` int32
        (layers each example ran) and `exit_logits` `(batch, num_layers,
        num_classes)` (every exit an example ran, zeros after its exit).

    Example:
    ```python
    encoder = SharedTransformerEncoder(num_layers=4, hidden_dim=32,
                                       num_heads=2, intermediate_dim=64)
    exit_layer = PatienceEarlyExit(
        encoder, keras.layers.Dense(32, activation="tanh"),
        keras.layers.Dense(3), patience=2)
    x = np.random.rand(2, 5, 32).astype("float32")
    outputs = exit_layer(x, padding_mask=np.ones((2, 5), "int32"))
    outputs["layers_used"]  # e.g. [3, 4]
    ```
    """

    def __init__(
        self,
        encoder,
        pooler,
        head,
        patience=6,
        regression_threshold=0.1,
        dropout=0.1,
        initializer_range=0.02,
        exits_trainable_only=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.patience = check_patience(patience)
        self.regression_threshold = check_regression_threshold(
            regression_threshold)
        self.encoder = encoder
        self.pooler = pooler
        self.head = head
        self.num_layers = encoder.num_layers
        self.hidden_dim = encoder.hidden_dim
        self.num_classes = int(head.units)
        self.dropout = float(dropout)
        self.initializer_range = float(initializer_range)
        self.exits_trainable_only = bool(exits_trainable_only)
        self.exit_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="exit_dropout")

    def build(self, x_shape, padding_mask_shape=None):
        hidden = (None, self.hidden_dim)
        if not self.encoder.built:
            self.encoder.build((None, None, self.hidden_dim))
        if not self.pooler.built:
            self.pooler.build(hidden)
        if not self.head.built:
            self.head.build(hidden)
        # The exits of layers 1 .. num_layers - 1; the last is `head`.
        internal = self.num_layers - 1
        self.exit_kernel = self.add_weight(
            name="exit_kernel",
            shape=(internal, self.hidden_dim, self.num_classes),
            initializer=keras.initializers.TruncatedNormal(
                stddev=self.initializer_range),
        )
        self.exit_bias = self.add_weight(
            name="exit_bias", shape=(internal, self.num_classes),
            initializer="zeros",
        )
        self.built = True

    # -- one exit ------------------------------------------------------
    def _pooled(self, x, training):
        pooled = self.pooler(x[:, 0, :])
        return self.exit_dropout(pooled, training=training)

    def _internal_exit(self, pooled, layer_index):
        """Exit `layer_index` (< num_layers - 1) on `(batch, hidden)`;
        `layer_index` may be a tensor (inside the loop)."""
        kernel = ops.take(ops.convert_to_tensor(self.exit_kernel),
                          layer_index, axis=0)
        bias = ops.take(ops.convert_to_tensor(self.exit_bias),
                        layer_index, axis=0)
        return ops.matmul(pooled, ops.cast(kernel, pooled.dtype)) + ops.cast(
            bias, pooled.dtype)

    def _exit_logits(self, x, layer_index, is_last, stacked=None):
        """Exit logits of layer `layer_index` (a tensor in the loop).

        `stacked`: every exit's kernel and bias stacked once before the
        loop (`_stacked_exits`), so that a layer's exit is one gather and
        one matmul instead of both heads and a choice between them."""
        pooled = self._pooled(x, training=False)
        if stacked is not None:
            kernels, biases = stacked
            return ops.matmul(pooled, ops.take(kernels, layer_index, axis=0)
                              ) + ops.take(biases, layer_index, axis=0)
        final = self.head(pooled)
        if self.num_layers == 1:
            return final
        internal = self._internal_exit(
            pooled, ops.minimum(layer_index, self.num_layers - 2))
        if isinstance(is_last, bool):
            return final if is_last else internal
        return ops.where(is_last, final, internal)

    def _stacked_exits(self, dtype):
        """`(kernels (num_layers, hidden, classes), biases (num_layers,
        classes))` of every exit, the last being `head`; None when the
        head is not a plain affine map of float weights (quantized, no
        bias, an activation), and the loop then calls it."""
        if getattr(self.head, "quantization_mode", None) is not None or (
                not self.head.use_bias) or (
                self.head.activation is not keras.activations.linear):
            return None
        kernel = ops.convert_to_tensor(self.head.kernel)[None]
        bias = ops.convert_to_tensor(self.head.bias)[None]
        if self.num_layers > 1:
            kernel = ops.concatenate(
                [ops.convert_to_tensor(self.exit_kernel), kernel], axis=0)
            bias = ops.concatenate(
                [ops.convert_to_tensor(self.exit_bias), bias], axis=0)
        return ops.cast(kernel, dtype), ops.cast(bias, dtype)

    def _prediction(self, logits):
        if self.num_classes == 1:
            return ops.cast(logits[:, 0], "float32")
        return argmax_int32(logits)

    def _agrees(self, prediction, previous):
        if self.num_classes == 1:
            return ops.abs(prediction - previous) < self.regression_threshold
        return ops.equal(prediction, previous)

    # -- call ------------------------------------------------------------
    def call(self, x, padding_mask=None, training=None):
        if training:
            return self._every_exit(x, padding_mask, training)
        return self._patience_loop(x, padding_mask)

    def _every_exit(self, x, padding_mask, training):
        """Training: every layer, every exit (the PABEE loss needs all)."""
        encoder_training = False if self.exits_trainable_only else training
        _, states = self.encoder(
            x, padding_mask=padding_mask, training=encoder_training,
            return_hidden_states=True)
        pooled = ops.stack(
            [self._pooled(state, training) for state in states[1:]], axis=1)
        final = self.head(pooled[:, -1])
        exits = [final[:, None, :]]
        if self.num_layers > 1:
            internal = ops.einsum(
                "blh,lhc->blc", pooled[:, :-1],
                ops.cast(self.exit_kernel, pooled.dtype),
            ) + ops.cast(self.exit_bias, pooled.dtype)
            exits.insert(0, internal)
        exit_logits = ops.concatenate(exits, axis=1)
        batch = ops.shape(x)[0]
        return {
            "logits": final,
            "layers_used": ops.full((batch,), self.num_layers, "int32"),
            "exit_logits": exit_logits,
        }

    def _patience_loop(self, x, padding_mask):
        concrete = _concrete(x)
        num_layers = self.num_layers
        batch = ops.shape(x)[0]
        dtype = self.head.compute_dtype
        prediction_dtype = "float32" if self.num_classes == 1 else "int32"
        state = (
            x,
            ops.zeros((batch,), "int32"),  # agreeing exits in a row
            ops.zeros((batch,), "bool"),  # exited
            ops.zeros((batch,), prediction_dtype),  # last prediction
            ops.zeros((batch, self.num_classes), dtype),  # logits kept
            ops.zeros((batch,), "int32"),  # layers used
            ops.zeros((batch, num_layers, self.num_classes), dtype),
        )
        stacked = self._stacked_exits(dtype)
        start = 0
        # Consecutive layers that run the same blocks form one loop (one
        # for ALBERT's full sharing; one per layer with `sharing="none"`).
        for count, row in self.encoder._runs:
            def cond(step, *state):
                return ops.logical_and(
                    step < count, ops.logical_not(ops.all(state[2])))

            def body(step, x, streak, exited, previous, kept, used,
                     exit_logits, row=row, start=start):
                for index in row:
                    x = self.encoder.blocks[index](
                        x, padding_mask=padding_mask)
                layer = step + start
                logits = self._exit_logits(
                    x, layer, is_last=layer >= num_layers - 1,
                    stacked=stacked)
                prediction = self._prediction(logits)
                agrees = ops.logical_and(self._agrees(prediction, previous),
                                         layer > 0)
                active = ops.logical_not(exited)
                streak = ops.where(
                    active, ops.where(agrees, streak + 1, 0), streak)
                kept = ops.where(active[:, None], logits, kept)
                used = ops.where(active, ops.cast(layer + 1, "int32"), used)
                written = ops.cast(active, dtype)[:, None, None] * (
                    ops.cast(ops.one_hot(layer, num_layers), dtype)[
                        None, :, None])
                exit_logits = exit_logits + written * logits[:, None, :]
                exited = ops.logical_or(exited, streak >= self.patience)
                return (step + 1, x, streak, exited, prediction, kept,
                        used, exit_logits)

            step = 0 if concrete else ops.convert_to_tensor(0, "int32")
            state = _while_loop(cond, body, (step,) + state, concrete)[1:]
            start += count
        _, _, _, _, kept, used, exit_logits = state
        return {"logits": kept, "layers_used": used,
                "exit_logits": exit_logits}

    def compute_output_spec(self, x, padding_mask=None, training=None):
        batch = x.shape[0]
        dtype = self.compute_dtype
        return {
            "logits": keras.KerasTensor((batch, self.num_classes), dtype),
            "layers_used": keras.KerasTensor((batch,), "int32"),
            "exit_logits": keras.KerasTensor(
                (batch, self.num_layers, self.num_classes), dtype),
        }

    def get_config(self):
        # The encoder, pooler and last head are passed in by the owning
        # model (they are its backbone's and its own layers).
        config = super().get_config()
        config.update(
            {
                "patience": self.patience,
                "regression_threshold": self.regression_threshold,
                "dropout": self.dropout,
                "initializer_range": self.initializer_range,
                "exits_trainable_only": self.exits_trainable_only,
            }
        )
        return config


def check_patience(patience):
    """`patience` as an int >= 1, or a ValueError naming it."""
    import numbers

    if isinstance(patience, bool) or not isinstance(
            patience, numbers.Integral) or patience < 1:
        raise ValueError(
            "`patience` must be an integer >= 1 (consecutive agreeing "
            "exits before an example stops; >= num_layers runs the full "
            f"depth). Received: {patience!r}."
        )
    return int(patience)


def check_regression_threshold(threshold):
    """`threshold` as a float > 0, or a ValueError naming it."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(threshold, bool) or not value > 0 or value == float(
            "inf"):
        raise ValueError(
            "`regression_threshold` must be a number > 0 (the largest "
            "change between consecutive exits of a regressor that counts "
            f"as agreeing). Received: {threshold!r}."
        )
    return value
