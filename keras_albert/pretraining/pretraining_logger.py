"""`PretrainingLogger`: console lines, TensorBoard scalars and a JSON-lines
log of a pretraining run, at its global update count."""

import json
import os
import time

import keras
import numpy as np

LOG_FILE = "train_log.jsonl"


def _metric_name(key):
    # Keras prefixes metrics of a named output with the output's name:
    # "mlm_mlm_accuracy" -> "mlm_accuracy".
    for output in ("mlm", "sop"):
        doubled = f"{output}_{output}_"
        if key.startswith(doubled):
            return key[len(output) + 1:]
    return key


class PretrainingLogger(keras.callbacks.Callback):
    """Console lines, TensorBoard scalars and a JSON-lines log, at the
    run's global update count.

    Every `log_every` updates it reports the loss and metrics averaged over
    the updates since the previous line (metrics are reset after each line),
    the learning rate of the next update, the optimizer's own iteration
    counter and throughput. Steps keep counting across restarts, so
    TensorBoard curves of a resumed run continue instead of starting over.

    Args:
        log_every: int. Updates between lines.
        total_steps: int. Updates in the whole run (for "step i/N").
        accumulation_steps: int. Batches per update.
        initial_batches: int. Batches done before this `fit`.
        log_dir: optional folder for TensorBoard events and
            `train_log.jsonl`.
        batch_size: int. Global examples per batch (for examples/s).
        print_fn: callable for console lines (`None`: silent).

    Example:
    ```python
    pretrainer.fit(ds, steps_per_epoch=1000, verbose=0,
                   callbacks=[PretrainingLogger(100, 1000, log_dir="logs")])
    ```
    """

    def __init__(self, log_every, total_steps, accumulation_steps=1,
                 initial_batches=0, log_dir=None, batch_size=None,
                 print_fn=print):
        super().__init__()
        self.log_every = int(log_every)
        self.total_steps = int(total_steps)
        self.accumulation_steps = int(accumulation_steps)
        self.initial_batches = int(initial_batches)
        self.log_dir = log_dir
        self.batch_size = batch_size
        self.print_fn = print_fn
        self._writer = None
        self._clock = None
        self._clock_step = None

    def on_train_begin(self, logs=None):
        self._clock = time.time()
        self._clock_step = self.initial_batches // self.accumulation_steps
        if self.log_dir:
            import tensorflow as tf

            os.makedirs(self.log_dir, exist_ok=True)
            self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_train_batch_end(self, batch, logs=None):
        batches = self.initial_batches + batch + 1
        if batches % self.accumulation_steps:
            return
        step = batches // self.accumulation_steps
        if step % self.log_every and step != self.total_steps:
            return
        model = self.model  # On JAX this syncs the training state.
        values = {_metric_name(k): float(v) for k, v in (logs or {}).items()
                  if np.ndim(v) == 0}
        optimizer = model.optimizer
        values["learning_rate"] = float(
            keras.ops.convert_to_numpy(optimizer.learning_rate))
        iterations = int(keras.ops.convert_to_numpy(optimizer.iterations))
        now = time.time()
        rate = (step - self._clock_step) / max(now - self._clock, 1e-9)
        self._clock, self._clock_step = now, step
        if self.print_fn is not None:
            parts = [f"{k}={v:.4g}" for k, v in values.items()]
            speed = f"{rate:.2f} steps/s"
            if self.batch_size:
                examples = rate * self.batch_size * self.accumulation_steps
                speed += f", {examples:.1f} examples/s"
            self.print_fn(f"step {step}/{self.total_steps} "
                          + " ".join(parts) + f" ({speed})")
        if self._writer is not None:
            with self._writer.as_default():
                for k, v in dict(values, steps_per_second=rate).items():
                    _write_scalar(k, v, step)
            self._writer.flush()
        if self.log_dir:
            record = dict(values, step=step, optimizer_iterations=iterations,
                          time=now)
            with open(os.path.join(self.log_dir, LOG_FILE), "a") as f:
                f.write(json.dumps(record) + "\n")
        # Each line averages over its own interval, not since the start.
        model.reset_metrics()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _write_scalar(name, value, step):
    """A TensorBoard scalar through TensorFlow's core summary op.

    `tf.summary.scalar` lives in the `tensorboard` package, which TensorFlow
    2.21 no longer installs; `tf.summary.write` with the scalars plugin's
    metadata writes the very same event records without it.
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="scalars", content=b""),
        data_class=summary_pb2.DATA_CLASS_SCALAR)
    tf.summary.write(name, tf.constant(float(value), tf.float32), step=step,
                     metadata=metadata)
