"""Workarounds for Keras 3.15's TensorFlow trainer under
`tf.distribute.MultiWorkerMirroredStrategy`, applied to one model instance.
"""

import keras

from keras_albert.utils import compat


def patch_for_multi_worker(model, strategy):
    """Works around two bugs of Keras 3.15's TF trainer under
    `MultiWorkerMirroredStrategy` (single-host strategies are unaffected),
    on this model instance only.

    1. Before the first step, `fit` learns the input shapes by reducing the
       first distributed batch with `strategy.reduce("MEAN", batch)`; the
       collective strategy's `reduce` rejects a dict of tensors ("Attempt to
       convert a value ({'token_ids': PerReplica...}) ... to a Tensor").
       Only shapes and dtypes are needed, so the local replica's values are
       used instead (no collective at all).
    2. The step's logs are averaged across workers with
       `strategy.reduce("MEAN", v, axis=0)`, which fails on scalars
       ("Invalid reduction dimension 0 for input with 0 dimensions"). The
       step returns them with shape `(1,)`, which that reduction turns back
       into the same scalars.
    """
    import tensorflow as tf

    train_step = model.train_step

    def train_step_with_vector_logs(data):
        logs = train_step(data)
        return {k: keras.ops.reshape(v, (1,)) if len(v.shape) == 0 else v
                for k, v in logs.items()}

    model.train_step = train_step_with_vector_logs

    def local_value(v):
        if isinstance(v, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(v)[0]
        return v

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = keras.tree.map_structure(local_value, next(it))
                break
        with strategy.scope():
            compat.symbolic_build(model, data_batch)

    compat.replace_maybe_symbolic_build(model, maybe_symbolic_build)
