"""`StepCheckpoint`: resumable, atomic checkpoints of model and optimizer
state every N batches, mid-epoch included."""

import glob
import json
import os
import re
import time

import keras
import numpy as np

_CHECKPOINT_RE = re.compile(r"^ckpt-(\d+)\.npz$")


def _variable_to_numpy(variable):
    # `Variable.numpy()` also reads tf.distribute variables (e.g. the
    # int64 iteration counter), where `convert_to_numpy` fails.
    return np.array(variable.numpy())


class StepCheckpoint(keras.callbacks.Callback):
    """Saves model and optimizer state every N batches, atomically.

    Each checkpoint is one `ckpt-<batches>.npz` holding every model variable
    (trainable or not), every optimizer variable (LAMB moments, iteration
    counter, gradient accumulators, loss scale) and JSON metadata. It is
    written to a temporary file, flushed to disk and then renamed, so a
    process killed at any moment leaves either the previous or the new
    checkpoint complete, never a torn one; older checkpoints beyond `keep`
    are deleted after the rename.

    Unlike `keras.callbacks.BackupAndRestore` (which in Keras 3.15 restores
    only at epoch granularity and overwrites its file in place), restoring
    this checkpoint puts the optimizer's iteration counter, and therefore the
    learning-rate schedule, exactly where it was, mid-epoch included.

    Args:
        directory: folder for the checkpoints.
        save_every: int. Batches (fit steps) between checkpoints.
        initial_batches: int. Batches already done when `fit` starts (after
            a restore), so file names and metadata count from the start of
            the run.
        keep: int. Checkpoints kept.
        metadata: optional JSON-able dict stored with each checkpoint.
        write: bool. False on non-chief workers: they train but do not
            write.

    Example:
    ```python
    ckpt = StepCheckpoint("run/checkpoints", save_every=500)
    path = StepCheckpoint.latest("run/checkpoints")
    if path:
        meta = StepCheckpoint.restore(pretrainer, path)
        ckpt.initial_batches = meta["batches"]
    pretrainer.fit(ds, steps_per_epoch=n, callbacks=[ckpt])
    ```
    """

    def __init__(self, directory, save_every, initial_batches=0, keep=2,
                 metadata=None, write=True):
        super().__init__()
        self.directory = os.fspath(directory)
        self.save_every = int(save_every)
        self.initial_batches = int(initial_batches)
        self.keep = max(1, int(keep))
        self.metadata = dict(metadata or {})
        self.write = write
        self.last_saved = None

    def on_train_begin(self, logs=None):
        self.last_saved = self.initial_batches

    def on_train_batch_end(self, batch, logs=None):
        batches = self.initial_batches + batch + 1
        # Compare intervals, not remainders: robust to steps_per_execution.
        if batches // self.save_every > self.last_saved // self.save_every:
            self.save(batches)

    def save(self, batches):
        """Writes the checkpoint for `batches` completed batches."""
        self.last_saved = batches
        if not self.write:
            return None
        model = self.model  # On JAX this syncs the training state first.
        arrays = {}
        for i, v in enumerate(model.weights):
            arrays[f"model/{i:05d}"] = _variable_to_numpy(v)
        for i, v in enumerate(model.optimizer.variables):
            arrays[f"optimizer/{i:05d}"] = _variable_to_numpy(v)
        meta = dict(self.metadata, batches=int(batches),
                    model_paths=[v.path for v in model.weights],
                    time=time.time())
        arrays["__meta__"] = np.frombuffer(
            json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"ckpt-{batches:010d}.npz")
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        for old in self.list(self.directory)[:-self.keep]:
            os.remove(old)
        return path

    @staticmethod
    def list(directory):
        """Complete checkpoints in `directory`, oldest first."""
        found = []
        for path in glob.glob(os.path.join(os.fspath(directory), "ckpt-*")):
            match = _CHECKPOINT_RE.match(os.path.basename(path))
            if match:
                found.append((int(match.group(1)), path))
        return [path for _, path in sorted(found)]

    @staticmethod
    def latest(directory):
        """Path of the newest complete checkpoint, or `None`."""
        found = StepCheckpoint.list(directory)
        return found[-1] if found else None

    @staticmethod
    def read_metadata(path):
        with np.load(path) as data:
            return json.loads(bytes(data["__meta__"]).decode("utf-8"))

    @staticmethod
    def restore(model, path):
        """Loads a checkpoint into a built, compiled model.

        Builds the optimizer first when needed, then assigns every model and
        optimizer variable. Returns the checkpoint's metadata.
        """
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        with np.load(path) as data:
            meta = json.loads(bytes(data["__meta__"]).decode("utf-8"))
            for prefix, variables in (("model", model.weights),
                                      ("optimizer", optimizer.variables)):
                keys = sorted(k for k in data.files
                              if k.startswith(prefix + "/"))
                if len(keys) != len(variables):
                    raise ValueError(
                        f"Checkpoint {path} has {len(keys)} {prefix} "
                        f"variables, the model has {len(variables)}: it was "
                        "written for a different model or optimizer setup.")
                for key, variable in zip(keys, variables):
                    value = data[key]
                    if tuple(value.shape) != tuple(variable.shape):
                        raise ValueError(
                            f"Checkpoint {path}: {key} has shape "
                            f"{value.shape}, {variable.path} has "
                            f"{tuple(variable.shape)}.")
                    variable.assign(value)
        return meta

    @staticmethod
    def remove_partial(directory):
        """Deletes the temporary files of checkpoints whose writing was
        interrupted (a process killed mid-`save`): never valid checkpoints.
        """
        for path in glob.glob(os.path.join(os.fspath(directory),
                                           "ckpt-*.npz.tmp-*")):
            try:
                os.remove(path)
            except OSError:
                pass


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
