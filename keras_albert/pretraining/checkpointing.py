"""`StepCheckpoint`: resumable, atomic, checksummed checkpoints of model and
optimizer state every N batches, mid-epoch included."""

import glob
import hashlib
import json
import logging
import os
import re
import time
import zipfile

import keras
import numpy as np

from keras_albert.utils.atomic_files import atomic_files
from keras_albert.utils.atomic_files import remove_stale_temporaries

logger = logging.getLogger("keras_albert")

_CHECKPOINT_RE = re.compile(r"^ckpt-(\d+)\.npz$")
# `ckpt-N.npz.sha256` beside each checkpoint, in `sha256sum` format.
CHECKSUM_SUFFIX = ".sha256"
# A checkpoint that failed verification is renamed `ckpt-N.npz.damaged`
# (kept for a person to look at, out of the rotation).
DAMAGED_SUFFIX = ".damaged"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _variable_to_numpy(variable):
    # `Variable.numpy()` also reads tf.distribute variables (e.g. the
    # int64 iteration counter), where `convert_to_numpy` fails.
    return np.array(variable.numpy())


class StepCheckpoint(keras.callbacks.Callback):
    """Saves model and optimizer state every N batches, atomically.

    Each checkpoint is one `ckpt-<batches>.npz` holding every model variable
    (trainable or not), every optimizer variable (LAMB moments, iteration
    counter, gradient accumulators, loss scale) and JSON metadata, plus
    `ckpt-<batches>.npz.sha256`, its SHA-256. Both are written to a
    temporary folder, flushed to disk and then renamed, so a process killed
    (or a disk filling up) at any moment leaves either the previous or the
    new checkpoint complete, never a torn one; older checkpoints beyond
    `keep` are deleted after the rename. `latest_intact` verifies the
    checksum before a resume: a checkpoint damaged later on disk (truncated,
    bit-flipped) is set aside and the newest intact one is used, with one
    warning line naming both.

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
    path = StepCheckpoint.latest_intact("run/checkpoints")
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
        name = f"ckpt-{batches:010d}.npz"
        # The checksum is put in place first, so every checkpoint under its
        # final name has one.
        with atomic_files(self.directory, [name + CHECKSUM_SUFFIX, name]
                          ) as staging:
            staged = os.path.join(staging, name)
            with open(staged, "wb") as f:
                np.savez(f, **arrays)
            with open(staged + CHECKSUM_SUFFIX, "w", encoding="utf-8") as f:
                f.write(f"{_sha256(staged)}  {name}\n")
        for old in self.list(self.directory)[:-self.keep]:
            _remove_checkpoint(old)
        return os.path.join(self.directory, name)

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
    def verify(path):
        """Why the checkpoint at `path` cannot be used, or None when it is
        intact: its bytes match the SHA-256 written with it (checkpoints
        written before checksums: every member passes the zip's CRC and
        the metadata reads)."""
        checksum = path + CHECKSUM_SUFFIX
        try:
            if os.path.isfile(checksum):
                with open(checksum, encoding="utf-8") as f:
                    expected = (f.read().split() or [""])[0]
                if _sha256(path) != expected:
                    return "its SHA-256 differs from the one written with it"
                return None
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                return f"{bad} fails its CRC check"
            StepCheckpoint.read_metadata(path)
        except (OSError, EOFError, ValueError, KeyError,
                zipfile.BadZipFile) as e:
            return f"it cannot be read ({type(e).__name__}: {e})"
        return None

    @staticmethod
    def latest_intact(directory, set_aside=True):
        """Path of the newest checkpoint that passes `verify`, or None.

        Newer checkpoints that fail it (a truncated or bit-flipped file) are
        reported in one warning line naming them and the checkpoint used
        instead, and, with `set_aside`, renamed `ckpt-N.npz.damaged` so
        they leave the rotation but stay for a person to look at.

        Args:
            directory: the checkpoint folder.
            set_aside: bool. Rename damaged checkpoints (only the process
                that writes checkpoints should).
        """
        damaged, found = [], None
        for path in reversed(StepCheckpoint.list(directory)):
            reason = StepCheckpoint.verify(path)
            if reason is None:
                found = path
                break
            damaged.append((path, reason))
        if not damaged:
            return found
        if set_aside:
            for path, _ in damaged:
                for suffix in ("", CHECKSUM_SUFFIX):
                    if os.path.exists(path + suffix):
                        os.replace(path + suffix,
                                   path + DAMAGED_SUFFIX + suffix)
        logger.warning(
            "Damaged checkpoint%s %s; %s.",
            "s" if len(damaged) > 1 else "",
            "; ".join(f"{p}: {reason}" for p, reason in damaged),
            f"resuming from {found} instead" if found else
            "no intact checkpoint is left, so training starts from the "
            "beginning",
        )
        return found

    @staticmethod
    def read_metadata(path):
        with np.load(path) as data:
            return json.loads(bytes(data["__meta__"]).decode("utf-8"))

    @staticmethod
    def restore(model, path, verify=True):
        """Loads a checkpoint into a built, compiled model.

        Builds the optimizer first when needed, then assigns every model and
        optimizer variable. Returns the checkpoint's metadata. With
        `verify` (skip it for a path `latest_intact` just returned), a
        damaged file raises a ValueError saying so.
        """
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        reason = StepCheckpoint.verify(path) if verify else None
        if reason is not None:
            raise ValueError(
                f"Checkpoint {path} is damaged: {reason}. "
                "`StepCheckpoint.latest_intact` finds the newest intact one.")
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
        """Deletes what checkpoints whose writing was interrupted (a process
        killed mid-`save`) left: temporary files and folders, and checksums
        without their checkpoint. Never valid checkpoints."""
        directory = os.fspath(directory)
        remove_stale_temporaries(directory)
        # Temporary files of versions before the staging folders.
        stale = glob.glob(os.path.join(directory, "ckpt-*.npz.tmp-*"))
        stale += [
            path for path in glob.glob(
                os.path.join(directory, "ckpt-*.npz" + CHECKSUM_SUFFIX))
            if not os.path.exists(path[: -len(CHECKSUM_SUFFIX)])
        ]
        for path in stale:
            try:
                os.remove(path)
            except OSError:
                pass


def _remove_checkpoint(path):
    for suffix in (CHECKSUM_SUFFIX, ""):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
