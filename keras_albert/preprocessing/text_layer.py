"""Base for layers that run TensorFlow text ops on every Keras backend."""

import keras


class TextLayer(keras.layers.Layer):
    """A layer whose `call` runs TensorFlow (tf.data / tf-text) ops.

    Strings have no JAX or torch tensor type, so text layers keep their
    inputs as TF tensors (no backend conversion), run inside `tf.data` in
    graph mode, and only when called eagerly under another backend convert
    their numeric outputs to that backend's tensors.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Keep inputs as given: Keras would try to turn strings into
        # backend tensors.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    def get_build_config(self):
        return None

    @staticmethod
    def _to_backend(outputs):
        """Converts eager TF outputs to the active backend's tensors."""
        import tensorflow as tf

        if not tf.executing_eagerly() or keras.backend.backend() == (
            "tensorflow"
        ):
            return outputs

        def convert(x):
            if isinstance(x, tf.RaggedTensor):
                return x.to_list()
            if isinstance(x, tf.Tensor):
                if x.dtype == tf.string:
                    return x.numpy()
                return keras.ops.convert_to_tensor(x.numpy())
            return x

        return keras.tree.map_structure(convert, outputs)
