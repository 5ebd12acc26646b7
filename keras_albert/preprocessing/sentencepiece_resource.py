"""A SentencePiece model resource that TensorFlow's kernel cache cannot free.

tensorflow-text's `SentencepieceTokenizer` keeps its model in a resource
owned by the eager kernel that created it. `tf.random.set_seed` (so
`keras.utils.set_random_seed`) and `keras.backend.clear_session()` clear
TensorFlow's eager kernel cache, which deletes that kernel and with it the
model of every tokenizer built before: the next tokenization fails with
"Resource ... SentencepieceOp ... does not exist" (and TensorFlow logs
"OP_REQUIRES failed at sentencepiece_kernels.cc"). tensorflow-text notes
this itself (a TODO to switch to a ref-counted resource).

`SentencepieceModelResource` creates the same resource under a unique
`shared_name`, which makes it belong to TensorFlow's resource manager
instead of to the kernel, so it lives as long as this object (its
destructor frees it) whatever happens to the kernel cache. `AlbertTokenizer`
puts one under its tensorflow-text tokenizer.

Example:
```python
resource = SentencepieceModelResource(open("spiece.model", "rb").read())
compat.replace_sentencepiece_model(tf_text_tokenizer, resource)
```
"""

import uuid

from keras_albert.utils import compat

try:
    import tensorflow as tf
except ImportError:
    tf = None

_TrackableResource = (
    tf.saved_model.experimental.TrackableResource if tf is not None
    else object
)


class SentencepieceModelResource(_TrackableResource):
    """The SentencePiece model of a tokenizer, as a TensorFlow resource that
    `tf.random.set_seed` and `clear_session` leave alone.

    Tracked by `tf.saved_model` like tensorflow-text's own resource: an
    exported graph creates its own copy under a name of its own, which the
    loading process keeps for as long as it runs.

    Args:
        model: bytes. The serialized SentencePiece model.
    """

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._shared_name = self._new_name()
        _ = self.resource_handle  # creates the resource now, eagerly

    @staticmethod
    def _new_name():
        return f"keras_albert_sentencepiece_{uuid.uuid4().hex}"

    def _create_resource(self):
        # Graphs being exported get a name of their own: a SavedModel
        # loaded into this process must not share (and outlive) ours.
        name = (self._shared_name if tf.executing_eagerly()
                else self._new_name())
        return compat.sentencepiece_model_op()(
            model=self._model, shared_name=name)

    def _destroy_resource(self):
        # Only the eager resource is this object's to free; the copy in an
        # exported graph belongs to the process that loads it.
        if tf.executing_eagerly():
            tf.raw_ops.DestroyResourceOp(
                resource=self.resource_handle, ignore_lookup_error=True)
