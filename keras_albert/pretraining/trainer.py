"""ALBERT pretraining loop: LAMB, warm-up + polynomial decay, gradient
accumulation, mixed precision, data parallelism, resumable step checkpoints,
TensorBoard and console logging.

The loop is plain `keras.Model.fit` on `AlbertPretrainer`, so it runs on
TensorFlow, JAX and PyTorch; what `fit` does not offer (mid-epoch resumable
checkpoints, logging at a global step that survives restarts) is added by
two callbacks, `StepCheckpoint` (`checkpointing.py`) and
`PretrainingLogger` (`pretraining_logger.py`). The settings are a
`PretrainingConfig` (`pretraining_config.py`), the optimizer comes from
`make_optimizer` (`pretraining_optimizer.py`).

Vocabulary used below: a *batch* is one `fit` step on `batch_size` examples
(split across replicas); an *update* (or *step*) is one optimizer update,
made every `gradient_accumulation_steps` batches. `PretrainingConfig.steps`,
`warmup_steps`, `checkpoint_every` and `log_every` all count updates, as the
paper's "125k steps at batch 4096" does.
"""

import dataclasses
import json
import logging
import os

import keras

from keras_albert.pretraining import distribution
from keras_albert.pretraining.checkpointing import StepCheckpoint
from keras_albert.pretraining.multi_worker import patch_for_multi_worker
from keras_albert.pretraining.pretraining_config import is_architecture_name
from keras_albert.pretraining.pretraining_logger import PretrainingLogger
from keras_albert.pretraining.pretraining_optimizer import make_optimizer
from keras_albert.utils.atomic_files import atomic_file

logger = logging.getLogger("keras_albert")

# Layout of `PretrainingConfig.output_dir`.
CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
PRESET_DIR = "preset"


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
    # The log names the strategy that runs: the caller's, else the config's.
    strategy_name = _strategy_name(
        config.strategy if strategy is None else strategy)
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
        with atomic_file(os.path.join(output_dir, "pretraining_config.json"),
                         "w") as f:
            json.dump(config.to_dict(), f, indent=2, default=str)
    keras.utils.set_random_seed(config.seed)

    with distribution.strategy_scope(strategy):
        if pretrainer is None:
            pretrainer = build_pretrainer(config)
        pretrainer.compile(optimizer=make_optimizer(config),
                           jit_compile=config.jit_compile)
        if distribution.is_multi_worker(strategy):
            patch_for_multi_worker(pretrainer, strategy)
        _say(print_fn if chief else None,
             f"Pretraining {config.steps} updates of "
             f"{config.effective_batch_size} examples with strategy "
             f"{strategy_name!r} over "
             f"{distribution.num_replicas(strategy)} replica(s); peak "
             f"learning rate {config.peak_learning_rate():.3g}, "
             f"{config.resolved_warmup_steps()} warm-up updates.")
        start_batches = 0
        if chief:
            StepCheckpoint.remove_partial(checkpoint_dir)
        # A damaged newest checkpoint (truncated, bit-flipped) is set
        # aside with a warning and the newest intact one used.
        latest = StepCheckpoint.latest_intact(checkpoint_dir,
                                              set_aside=chief)
        if latest is not None:
            meta = StepCheckpoint.restore(pretrainer, latest, verify=False)
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
    # tf.distribute's default strategy is the private
    # `_DefaultDistributionStrategy`.
    return type(strategy).__name__.lstrip("_")


def _say(print_fn, message):
    logger.info(message)
    if print_fn is not None:
        print_fn(message)
