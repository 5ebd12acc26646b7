"""Freezes a traced serving function: every weight becomes a constant.

TFLite needs it: with TensorFlow 2.21 the converter keeps Keras weights as
resource variables (`VAR_HANDLE`/`READ_VARIABLE`) that LiteRT leaves
uninitialised, so the model returns NaN. A frozen function leaves the
converter no variable to keep.

Example:
```python
@tf.function(input_signature=[token_signature(model)])
def serve(inputs):
    return model(inputs, training=False)

frozen = freeze_variables(serve.get_concrete_function())
converter = tf.lite.TFLiteConverter.from_concrete_functions(
    [frozen], tf.Module())
```
"""

from keras_albert.utils import compat


def freeze_variables(concrete):
    """`concrete` with every variable read turned into a constant.

    Freezing drops the output names, so the frozen graph is wrapped again
    to keep the signature's named (dict) outputs.

    Args:
        concrete: a `tf.types.experimental.ConcreteFunction` taking one
            dict of tensors and returning a dict.

    Returns:
        A concrete function with the same input signature and outputs,
        holding no variables.
    """
    import tensorflow as tf

    convert_variables_to_constants = compat.convert_variables_to_constants()
    frozen = convert_variables_to_constants(concrete)
    # Flat outputs follow `tf.nest` order, which sorts dict keys.
    names = sorted(concrete.structured_outputs)
    spec = concrete.structured_input_signature[0][0]

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return dict(zip(names, frozen(**inputs)))

    return serve.get_concrete_function()
