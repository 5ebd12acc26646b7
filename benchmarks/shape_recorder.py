"""Counts what a Keras model is fed and how often it traces, for benchmarks.

`ShapeRecorder` records the padded shape `(rows, width)` and the number of
real tokens (ones of `padding_mask`) of every batch a Keras model's
`fit`/`predict`/`evaluate` consume, once `install_recorder(recorder)` has
wrapped Keras' `data_adapters.get_data_adapter`:

- a `tf.data.Dataset` gets a `map` whose `tf.py_function` records each batch
  (identities depending on it keep tf.data from pruning it; no value
  changes);
- a Python generator is recorded as its batches are drawn;
- a dict of arrays is recorded in slices of `batch_size`, as Keras slices it.

Distinct shapes are what matters for compilation: JAX (and TensorFlow with
XLA) compiles one program per input shape. `count_steps(model, counts)`
counts the Python runs of the model's `predict_step`/`train_step`, which on
TensorFlow and JAX are its traces (on PyTorch eager: one per batch).

Example:
```python
recorder = ShapeRecorder()
install_recorder(recorder)
counts = {}
count_steps(classifier, counts)
classifier.predict(texts, batch_size=32)
recorder.summary()  # {"shapes": 3, "computed_tokens": ..., ...}
counts["predict_step"]  # traces on TensorFlow / JAX
```
"""

import inspect


class ShapeRecorder:
    """Records the padded shape and real-token count of every batch a
    Keras model is fed, per workload (see the module docstring)."""

    def __init__(self):
        self.batches = []

    def reset(self):
        self.batches = []

    def summary(self, passes=1):
        """Distinct shapes over the workload; tokens and batches per pass
        (the totals over `passes` passes / `passes`)."""
        if not self.batches:
            return dict(shapes=None, computed_tokens=None, useful_tokens=None,
                        batches=None)
        return dict(
            shapes=len({(rows, width) for rows, width, _ in self.batches}),
            computed_tokens=sum(rows * width for rows, width, _ in
                                self.batches) // passes,
            useful_tokens=sum(useful for _, _, useful in self.batches)
            // passes,
            batches=len(self.batches) // passes,
        )

    def record(self, rows, width, useful):
        self.batches.append((int(rows), int(width), int(useful)))

    @staticmethod
    def _token_dict(element):
        if isinstance(element, dict):
            return element if "padding_mask" in element else None
        if isinstance(element, (tuple, list)):
            for item in element:
                found = ShapeRecorder._token_dict(item)
                if found is not None:
                    return found
        return None

    def _record_numpy(self, element):
        import numpy as np

        inputs = self._token_dict(element)
        if inputs is not None:
            mask = np.asarray(inputs["padding_mask"])
            if mask.ndim == 2:
                self.record(mask.shape[0], mask.shape[1], mask.sum())
        return element

    def _tap_tf(self, element):
        import numpy as np
        import tensorflow as tf

        inputs = self._token_dict(element)
        if inputs is None:
            return element
        mask = inputs["padding_mask"]

        def record(shape, useful):
            shape = shape.numpy()
            self.record(shape[0], shape[1], useful.numpy())
            return np.int64(0)

        done = tf.py_function(
            record,
            [tf.shape(mask), tf.reduce_sum(tf.cast(mask, tf.int64))],
            tf.int64,
        )
        # The identities depend on the recording, so tf.data cannot prune
        # it away; they change no value.
        with tf.control_dependencies([done]):
            return tf.nest.map_structure(tf.identity, element)

    def wrap(self, x, batch_size=None):
        """`x` as Keras would consume it, with every batch recorded."""
        import numpy as np

        try:
            import tensorflow as tf
        except ImportError:  # pragma: no cover - KerasHub needs TF
            tf = None
        if tf is not None and isinstance(x, tf.data.Dataset):
            # `map` passes a tuple element's parts as separate arguments;
            # the element goes back as the same structure.
            if isinstance(x.element_spec, tuple):
                return x.map(lambda *parts: self._tap_tf(parts))
            return x.map(self._tap_tf)
        if inspect.isgenerator(x):
            return (self._record_numpy(item) for item in x)
        inputs = self._token_dict(x)
        if inputs is not None:
            mask = np.asarray(inputs["padding_mask"])
            step = batch_size or 32
            for start in range(0, len(mask), step):
                chunk = mask[start:start + step]
                self.record(chunk.shape[0], chunk.shape[1], chunk.sum())
        return x


def install_recorder(recorder):
    """Routes every dataset Keras' fit/predict build an epoch iterator from
    through `recorder.wrap`."""
    from keras.src.trainers import data_adapters

    original = data_adapters.get_data_adapter

    def get_data_adapter(x, *args, **kwargs):
        batch_size = kwargs.get("batch_size")
        return original(recorder.wrap(x, batch_size), *args, **kwargs)

    data_adapters.get_data_adapter = get_data_adapter


def count_steps(model, counts):
    """Counts Python executions of the model's predict/train steps (traces
    on TensorFlow and JAX)."""
    for name in ("predict_step", "train_step"):
        step = getattr(model, name)

        def counted(*args, _step=step, _name=name, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _step(*args, **kwargs)

        object.__setattr__(model, name, counted)
