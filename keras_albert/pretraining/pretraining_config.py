"""`PretrainingConfig`: the settings of one pretraining run, with the
paper's defaults and the rules that derive the learning rate and warm-up
from them.

All counts are optimizer updates; see `keras_albert.pretraining.trainer`
for the vocabulary (batches vs updates).
"""

import dataclasses
import math
import os

from keras_albert.utils.config_checks import reject_unknown_keys

# The paper's LAMB rate and the global batch it was tuned for.
PAPER_LEARNING_RATE = 0.00176
PAPER_BATCH_SIZE = 4096
# ALBERT's reference run warms up for 3,125 of its 125,000 updates.
PAPER_WARMUP_FRACTION = 3125 / 125_000


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
        # Typos in backbone settings fail here, before anything is built.
        from keras_albert.models.backbone_arguments import (
            check_backbone_arguments,
        )

        for name in ("backbone_config", "backbone_overrides"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ValueError(
                    f"`{name}` must be a dict of AlbertBackbone arguments; "
                    f"received {type(value).__name__}.")
            try:
                check_backbone_arguments(value)
            except ValueError as e:
                raise ValueError(f"`{name}`: {e}") from None

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
        """The config a `to_dict()` dict describes; unknown keys raise a
        ValueError with a did-you-mean suggestion."""
        names = {f.name for f in dataclasses.fields(cls)}
        reject_unknown_keys(values, names, "PretrainingConfig", noun="key")
        return cls(**values)


def is_architecture_name(preset):
    """True for a built-in name (`"base"`, ...), False for a directory or
    archive of weights."""
    from keras_albert.presets import loader

    return loader.resolve(os.fspath(preset))[0] == "named"
