"""Index of the largest value along the last axis, as int32."""

import keras
from keras import ops


def argmax_int32(x):
    """int32 argmax over the last axis (the first maximum on ties).

    On TensorFlow it is `tf.argmax` itself: `keras.ops.argmax` adds a
    bitwise test for -0.0 (`BitwiseAnd`) that TFLite has no builtin for.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.argmax(x, axis=-1, output_type=tf.int32)
    return ops.cast(ops.argmax(x, axis=-1), "int32")


@keras.saving.register_keras_serializable(package="keras_albert")
class ArgMax(keras.layers.Layer):
    """int32 argmax over the last axis, exportable to TFLite builtins
    (see `argmax_int32`). Serving graphs use it to turn class scores into
    label ids.

    Example:
    ```python
    ArgMax()(np.array([[0.1, 2.0, -1.0]]))  # [1]
    ```
    """

    def call(self, x):
        return argmax_int32(x)

    def compute_output_shape(self, shape):
        return shape[:-1]

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape[:-1], dtype="int32")
