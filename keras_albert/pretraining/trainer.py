"""ALBERT pretraining loop: LAMB, warm-up + polynomial decay, gradient
accumulation, mixed precision, data parallelism, resumable step checkpoints,
TensorBoard and console logging.

The loop is plain `keras.Model.fit` on `AlbertPretrainer`, so it runs on
TensorFlow, JAX and PyTorch; what `fit` does not offer (mid-epoch resumable
checkpoints, logging at a global step that survives restarts) is added by
the two callbacks here.

Vocabulary used below: a *batch* is one `fit` step on `batch_size` examples
(split across replicas); an *update* (or *step*) is one optimizer update,
made every `gradient_accumulation_steps` batches. `PretrainingConfig.steps`,
`warmup_steps`, `checkpoint_every` and `log_every` all count updates, as the
paper's "125k steps at batch 4096" does.
"""

import dataclasses
import glob
import json
import logging
import math
import os
import re
import time

import keras
import numpy as np

from keras_albert.pretraining import distribution
from keras_albert.pretraining.schedules import WarmupPolynomialDecay

logger = logging.getLogger("keras_albert")

# The paper's LAMB rate and the global batch it was tuned for.
PAPER_LEARNING_RATE = 0.00176
PAPER_BATCH_SIZE = 4096
# ALBERT's reference run warms up for 3,125 of its 125,000 updates.
PAPER_WARMUP_FRACTION = 3125 / 125_000

CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
PRESET_DIR = "preset"
LOG_FILE = "train_log.jsonl"
_CHECKPOINT_RE = re.compile(r"^ckpt-(\d+)\.npz$")


@dataclasses.dataclass
class PretrainingConfig:
    """Settings of one pretraining run (all counts are optimizer updates).

    Args:
        preset: a built-in architecture name (`"base"`, `"large"`, ...) or a
            preset directory. Ignored when `backbone_config` is given.
        backbone_config: optional dict of `AlbertBackbone` arguments for an
            architecture without a preset (e.g. a tiny test model).
        backbone_overrides: dict applied on top of the preset (e.g.
            `{"vocabulary_size": 8000}` for your own tokenizer).
        load_weights: load the preset's weights (continue pretraining).
            `None` means: no (random init, i.e. pretraining from scratch)
            for a built-in architecture name, yes for anything else (a
            preset directory or archive).
        sequence_length: int. Tokens per example (paper: 512; 128 is the
            usual first phase).
        max_predictions_per_seq: int. Masked positions per example.
        batch_size: int. Global examples per batch, over all replicas.
        steps: int. Optimizer updates in the whole run (paper: 125,000).
        warmup_steps: updates of linear warm-up; `None` uses 2.5% of `steps`
            (the reference's 3,125 of 125,000).
        learning_rate: peak LAMB rate; `None` scales the paper's 0.00176 at
            batch 4096 by the square root of the effective batch
            (`batch_size * gradient_accumulation_steps`), the rule the LAMB
            paper (You et al., 2019) used across batch sizes: batch 256 gets
            4.4e-4, batch 32 1.6e-4.
        end_learning_rate: float. Rate at the last update.
        power: float. Polynomial decay exponent (1.0: linear, as ALBERT).
        weight_decay: float. Decoupled weight decay of LAMB (0.01 as the
            reference), not applied to LayerNorm parameters or biases.
        global_clipnorm: optional float. Clip gradients by global norm (1.0
            as the reference).
        gradient_accumulation_steps: int. Batches whose gradients are
            averaged into one update (Keras optimizers' own
            `gradient_accumulation_steps`, verified to match the large batch
            on all three backends, and under JAX `data_parallel`; Keras 3.15
            cannot accumulate under tf.distribute strategies, which
            `pretrain` reports as an error).
        mixed_precision: `None`, `"mixed_bfloat16"` or `"mixed_float16"`
            (the latter wraps LAMB in a dynamic `LossScaleOptimizer`).
        strategy: `"none"`, `"mirrored"`, `"multi_worker"`, `"tpu"` or
            `"data_parallel"`; see `keras_albert.pretraining.distribution`.
        checkpoint_every: int. Updates between resumable checkpoints.
        keep_checkpoints: int. Most recent checkpoints kept on disk.
        log_every: int. Updates between console/TensorBoard lines.
        output_dir: where `checkpoints/`, `logs/` and the final `preset/`
            go.
        seed: int. Seeds weight initialisation (and, through
            `dataset_seed`, the data stream of the CLI).
        resume_data: how a plain `tf.data.Dataset` continues after a
            restart: `"skip"` skips the batches already trained on, so a
            deterministic dataset continues exactly where it was;
            `"restart"` reads it from its start again. Ignored when the
            dataset is given as a function of the start step.
        jit_compile: forwarded to `compile` (`"auto"` by default).

    Example:
    ```python
    config = PretrainingConfig(preset="base", steps=10_000, batch_size=256,
                               output_dir="runs/albert-base")
    config.peak_learning_rate()  # 0.00044
    ```
    """

    preset: str = "base"
    backbone_config: dict = None
    backbone_overrides: dict = dataclasses.field(default_factory=dict)
    load_weights: bool = None
    sequence_length: int = 128
    max_predictions_per_seq: int = 20
    batch_size: int = 32
    steps: int = 125_000
    warmup_steps: int = None
    learning_rate: float = None
    end_learning_rate: float = 0.0
    power: float = 1.0
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    gradient_accumulation_steps: int = 1
    mixed_precision: str = None
    strategy: str = "none"
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 100
    output_dir: str = "albert_pretraining"
    seed: int = 0
    resume_data: str = "skip"
    jit_compile: object = "auto"

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"`steps` must be >= 1, got {self.steps}.")
        if self.gradient_accumulation_steps < 1:
            raise ValueError("`gradient_accumulation_steps` must be >= 1.")
        if self.mixed_precision in ("", "none", "float32"):
            self.mixed_precision = None
        if self.mixed_precision not in (None, "mixed_bfloat16",
                                        "mixed_float16"):
            raise ValueError(
                "`mixed_precision` must be None, 'mixed_bfloat16' or "
                f"'mixed_float16', got {self.mixed_precision!r}.")
        if self.resume_data not in ("skip", "restart"):
            raise ValueError("`resume_data` must be 'skip' or 'restart'.")
        if self.checkpoint_every < 1 or self.log_every < 1:
            raise ValueError("`checkpoint_every` and `log_every` must be >= 1.")

    @property
    def effective_batch_size(self):
        """Examples per optimizer update."""
        return self.batch_size * self.gradient_accumulation_steps

    @property
    def total_batches(self):
        """`fit` steps of the whole run."""
        return self.steps * self.gradient_accumulation_steps

    def peak_learning_rate(self):
        """`learning_rate`, or the paper's rate scaled by sqrt(batch)."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return PAPER_LEARNING_RATE * math.sqrt(
            self.effective_batch_size / PAPER_BATCH_SIZE)

    def resolved_warmup_steps(self):
        """`warmup_steps`, or 2.5% of `steps`."""
        if self.warmup_steps is not None:
            return min(int(self.warmup_steps), self.steps)
        return int(round(PAPER_WARMUP_FRACTION * self.steps))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclasses.dataclass
class PretrainingResult:
    """What `pretrain` returns.

    Attributes:
        pretrainer: the trained `AlbertPretrainer`.
        history: the `keras.callbacks.History` of this process's `fit`
            (`None` when the run was already complete).
        initial_step: update the run (re)started from (> 0 after a resume).
        final_step: updates done when it returned (`config.steps`).
        preset_dir: where the final model was saved (`None` on non-chief
            workers).
    """

    pretrainer: object
    history: object
    initial_step: int
    final_step: int
    preset_dir: str


# ---------------------------------------------------------------------------
# Resumable checkpoints


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


# ---------------------------------------------------------------------------
# Logging


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


# ---------------------------------------------------------------------------
# Model and optimizer


def make_optimizer(config):
    """LAMB with `WarmupPolynomialDecay`, as the config says.

    Args:
        config: a `PretrainingConfig`.

    Returns:
        A `keras.optimizers.Lamb` (wrapped in a `LossScaleOptimizer` for
        `mixed_float16`).

    Example:
    ```python
    optimizer = make_optimizer(PretrainingConfig(steps=1000, batch_size=64))
    ```
    """
    accumulation = config.gradient_accumulation_steps
    schedule = WarmupPolynomialDecay(
        peak_learning_rate=config.peak_learning_rate(),
        warmup_steps=config.resolved_warmup_steps(),
        total_steps=config.steps,
        end_learning_rate=config.end_learning_rate,
        power=config.power,
        # Keras calls schedules with its micro-batch counter when
        # accumulating; the schedule divides it back to updates.
        accumulation_steps=accumulation,
    )
    optimizer = keras.optimizers.Lamb(
        learning_rate=schedule,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        weight_decay=config.weight_decay or None,
        global_clipnorm=config.global_clipnorm,
        gradient_accumulation_steps=accumulation if accumulation > 1 else None,
    )
    if config.weight_decay:
        # The reference excludes LayerNorm parameters and all biases.
        optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    if config.mixed_precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def is_architecture_name(preset):
    """True for a built-in name (`"base"`, ...), False for a directory or
    archive of weights."""
    from keras_albert.presets import loader

    return loader.resolve(os.fspath(preset))[0] == "named"


def build_pretrainer(config):
    """A fresh (or preset-initialised) `AlbertPretrainer` for `config`.

    Call it inside the strategy scope. The global dtype policy is set to
    `config.mixed_precision` while building and restored afterwards.

    Args:
        config: a `PretrainingConfig`.

    Returns:
        An uncompiled `AlbertPretrainer` without a preprocessor.

    Example:
    ```python
    pretrainer = build_pretrainer(PretrainingConfig(
        backbone_config=dict(vocabulary_size=1000, num_layers=2, num_heads=2,
                             embedding_dim=16, hidden_dim=32,
                             intermediate_dim=64)))
    ```
    """
    from keras_albert.models.albert_backbone import AlbertBackbone
    from keras_albert.tasks.albert_pretrainer import AlbertPretrainer

    policy = config.mixed_precision or "float32"
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        overrides = dict(config.backbone_overrides or {})
        if config.mixed_precision:
            overrides["dtype"] = policy
        if config.backbone_config is not None:
            backbone = AlbertBackbone(
                **dict(config.backbone_config, **overrides))
            pretrainer = AlbertPretrainer(backbone)
        else:
            load_weights = config.load_weights
            if load_weights is None:
                load_weights = not is_architecture_name(config.preset)
            pretrainer = AlbertPretrainer.from_preset(
                config.preset, load_weights=load_weights,
                backbone_overrides=overrides, preprocessor=None)
    finally:
        keras.config.set_dtype_policy(previous)
    backbone = pretrainer.backbone
    if backbone.max_sequence_length < config.sequence_length:
        raise ValueError(
            f"sequence_length={config.sequence_length} is longer than the "
            f"backbone's max_sequence_length={backbone.max_sequence_length}.")
    return pretrainer


def _patch_for_multi_worker(model, strategy):
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
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = maybe_symbolic_build


# ---------------------------------------------------------------------------
# The loop


def _prepare_dataset(dataset, config, start_batches):
    """The dataset for the remaining batches, repeated so `fit` never runs
    dry before the fixed step count."""
    if callable(dataset) and not hasattr(dataset, "element_spec"):
        # Repeating an already endless dataset is harmless.
        return dataset(start_batches).repeat()
    dataset = dataset.repeat()
    if start_batches and config.resume_data == "skip":
        dataset = dataset.skip(start_batches)
    return dataset


def pretrain(config, dataset, pretrainer=None, tokenizer=None,
             callbacks=(), print_fn=print, strategy=None):
    """Pretrains ALBERT for `config.steps` updates, resuming if a checkpoint
    of the same run exists.

    Builds (in the strategy's scope) an `AlbertPretrainer`, compiles it with
    LAMB on `WarmupPolynomialDecay` and both losses, restores the newest
    checkpoint of `config.output_dir/checkpoints` if there is one, then
    trains the remaining updates with `fit`, checkpointing every
    `config.checkpoint_every` updates and logging every `config.log_every`.
    At the end the model (and the tokenizer, when given) is written with
    `save_to_preset(output_dir/"preset")`, ready for
    `AlbertClassifier.from_preset(...)`.

    Resuming: a run that was killed, even with SIGKILL, restarts from its
    last complete checkpoint: weights, LAMB moments, the iteration counter
    and therefore the learning-rate schedule continue where they were; at
    most `checkpoint_every` updates are redone. The data continue too:

    * `dataset` as a function `dataset_fn(start_batches)` is called with the
      number of batches already trained on, so it can re-seed its stream
      (the CLI uses `seed + start_batches`): the resumed run sees fresh,
      reproducible examples without reading the skipped ones.
    * a `tf.data.Dataset` is repeated and, with `resume_data="skip"`
      (default), its first `start_batches` batches are skipped: for a
      deterministic dataset, the killed-and-resumed run then trains on
      exactly the batches of an uninterrupted run (this is tested). Skipping
      still generates those batches, so for long runs prefer the function.

    Args:
        config: a `PretrainingConfig`.
        dataset: `(x, y, sample_weight)` batches as made by
            `make_pretraining_dataset` (global batch `config.batch_size`), or
            a function of the start batch returning them.
        pretrainer: optional `AlbertPretrainer` to train instead of building
            one from `config` (build it inside the strategy scope yourself).
        tokenizer: optional `AlbertTokenizer` saved with the final preset.
        callbacks: extra Keras callbacks.
        print_fn: where console lines go (`None` for silence).
        strategy: optional strategy already built with
            `distribution.make_strategy` (default: built from
            `config.strategy`).

    Returns:
        A `PretrainingResult`.

    Example:
    ```python
    from keras_albert.pretraining.pretraining_dataset import (
        make_pretraining_dataset)

    config = PretrainingConfig(preset="base", steps=10_000, batch_size=128,
                               output_dir="runs/base")
    def data(start):
        return make_pretraining_dataset(
            "corpus/", tokenizer, sequence_length=128, batch_size=128,
            seed=config.seed + start, repeat=True)
    result = pretrain(config, data, tokenizer=tokenizer)
    result.preset_dir  # "runs/base/preset"
    ```
    """
    # The strategy first: MultiWorkerMirroredStrategy must exist before
    # TensorFlow's runtime starts.
    if strategy is None:
        strategy = distribution.make_strategy(config.strategy)
    if config.gradient_accumulation_steps > 1 and hasattr(
            strategy, "extended"):
        # Keras 3.15 accumulates inside an `ops.cond` whose branch calls
        # the optimizer's cross-replica `merge_call`, which tf.distribute
        # refuses ("`merge_call` called while defining a new graph").
        raise ValueError(
            "gradient_accumulation_steps > 1 does not work under "
            "tf.distribute strategies with Keras 3.15; raise batch_size "
            "(it is the global batch over all replicas) instead. "
            "Accumulation works without a strategy on every backend and "
            "with JAX's 'data_parallel'.")
    chief = distribution.is_chief(strategy)
    output_dir = os.fspath(config.output_dir)
    checkpoint_dir = os.path.join(output_dir, CHECKPOINT_DIR)
    log_dir = os.path.join(output_dir, LOG_DIR)
    preset_dir = os.path.join(output_dir, PRESET_DIR)
    if chief:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "pretraining_config.json"),
                  "w") as f:
            json.dump(config.to_dict(), f, indent=2, default=str)
    keras.utils.set_random_seed(config.seed)

    with distribution.strategy_scope(strategy):
        if pretrainer is None:
            pretrainer = build_pretrainer(config)
        pretrainer.compile(optimizer=make_optimizer(config),
                           jit_compile=config.jit_compile)
        if distribution.is_multi_worker(strategy):
            _patch_for_multi_worker(pretrainer, strategy)
        _say(print_fn if chief else None,
             f"Pretraining {config.steps} updates of "
             f"{config.effective_batch_size} examples with strategy "
             f"{_strategy_name(config.strategy)!r} over "
             f"{distribution.num_replicas(strategy)} replica(s); peak "
             f"learning rate {config.peak_learning_rate():.3g}, "
             f"{config.resolved_warmup_steps()} warm-up updates.")
        start_batches = 0
        if chief:
            _remove_partial_checkpoints(checkpoint_dir)
        latest = StepCheckpoint.latest(checkpoint_dir)
        if latest is not None:
            meta = StepCheckpoint.restore(pretrainer, latest)
            start_batches = int(meta["batches"])
            _say(print_fn, f"Resuming from {latest}: update "
                 f"{start_batches // config.gradient_accumulation_steps}"
                 f"/{config.steps}.")
        total_batches = config.total_batches
        remaining = total_batches - start_batches
        accumulation = config.gradient_accumulation_steps
        checkpoint = StepCheckpoint(
            checkpoint_dir, save_every=config.checkpoint_every * accumulation,
            initial_batches=start_batches, keep=config.keep_checkpoints,
            metadata={"accumulation_steps": accumulation,
                      "steps": config.steps},
            write=chief)
        history = None
        if remaining > 0:
            log = PretrainingLogger(
                config.log_every, config.steps, accumulation,
                initial_batches=start_batches,
                log_dir=log_dir if chief else None,
                batch_size=config.batch_size,
                print_fn=print_fn if chief else None)
            data = _prepare_dataset(dataset, config, start_batches)
            history = pretrainer.fit(
                data, epochs=1, steps_per_epoch=remaining, verbose=0,
                callbacks=[checkpoint, log, *callbacks])
            if checkpoint.last_saved != total_batches:
                checkpoint.set_model(pretrainer)
                checkpoint.save(total_batches)
        elif remaining < 0:
            raise ValueError(
                f"The checkpoint in {checkpoint_dir} is at batch "
                f"{start_batches}, past this run's {total_batches}; use "
                "another output_dir or more steps.")
    if chief:
        if tokenizer is not None and pretrainer.preprocessor is None:
            from keras_albert.preprocessing import AlbertPreprocessor

            pretrainer.preprocessor = AlbertPreprocessor(
                tokenizer, sequence_length=config.sequence_length)
        pretrainer.save_to_preset(preset_dir)
        _say(print_fn, f"Saved the pretrained model to {preset_dir}.")
    return PretrainingResult(
        pretrainer=pretrainer, history=history,
        initial_step=start_batches // config.gradient_accumulation_steps,
        final_step=config.steps, preset_dir=preset_dir if chief else None)


def _strategy_name(strategy):
    if strategy is None or isinstance(strategy, str):
        return strategy or "none"
    return type(strategy).__name__


def _remove_partial_checkpoints(directory):
    # Left by a process killed while writing; never valid checkpoints.
    for path in glob.glob(os.path.join(directory, "ckpt-*.npz.tmp-*")):
        try:
            os.remove(path)
        except OSError:
            pass


def _say(print_fn, message):
    logger.info(message)
    if print_fn is not None:
        print_fn(message)
