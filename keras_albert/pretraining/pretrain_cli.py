"""`keras-albert pretrain`: ALBERT pretraining from raw text.

Wired into `keras_albert/cli.py` through `add_parser(subparsers)`; the
handler is stored as `args.func` (call `args.func(args)`). The Python API
behind it is `keras_albert.pretraining.trainer.pretrain`.

```
keras-albert pretrain --corpus wiki/ books/*.txt --output runs/base \\
    --preset base --steps 125000 --batch-size 256 --sequence-length 128
```

Kill it at any time and run the same command again: it resumes from the
newest checkpoint in `OUTPUT/checkpoints`.
"""

import json
import os

from keras_albert.pretraining.distribution import STRATEGIES


def add_parser(subparsers):
    """Adds `pretrain` to an argparse subparsers object.

    Args:
        subparsers: the object returned by `parser.add_subparsers()`.

    Returns:
        The `pretrain` sub-parser.

    Example:
    ```python
    parser = argparse.ArgumentParser(prog="keras-albert")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["pretrain", "--corpus", "corpus/",
                              "--output", "runs/tiny", "--steps", "100"])
    args.func(args)
    ```
    """
    p = subparsers.add_parser(
        "pretrain",
        help="Pretrain ALBERT (MLM + SOP) on raw text.",
        description=(
            "Pretrain ALBERT with n-gram masked LM and sentence-order "
            "prediction on raw text, with LAMB, linear warm-up and "
            "polynomial decay. Checkpoints every --checkpoint-every updates; "
            "re-running the same command resumes. The final model (with its "
            "tokenizer) is written to OUTPUT/preset, TensorBoard logs to "
            "OUTPUT/logs."))
    p.add_argument("--corpus", nargs="+", required=True, metavar="PATH",
                   help="Text files, directories (all *.txt inside) or glob "
                        "patterns; one sentence or paragraph per line, "
                        "documents separated by blank lines.")
    p.add_argument("--output", required=True, metavar="DIR",
                   help="Run directory (checkpoints/, logs/, preset/).")
    p.add_argument("--preset", default="base", metavar="NAME_OR_DIR",
                   help="Architecture name (base, large, xlarge, xxlarge; "
                        "randomly initialised) or a preset directory "
                        "(continues from its weights). Default: base.")
    p.add_argument("--backbone-config", default=None, metavar="JSON",
                   help="JSON object (or path to a .json file) of "
                        "AlbertBackbone arguments overriding the preset's, "
                        "e.g. '{\"num_layers\": 4, \"hidden_dim\": 256}'.")
    p.add_argument("--tokenizer", default=None, metavar="SPIECE_MODEL",
                   help="SentencePiece .model to use. Default: the preset's "
                        "tokenizer, else one trained on the corpus "
                        "(--vocab-size) and saved to OUTPUT/tokenizer.")
    p.add_argument("--vocab-size", type=int, default=30000, metavar="N",
                   help="Vocabulary of a tokenizer trained on the corpus "
                        "(default 30000, as ALBERT).")
    p.add_argument("--steps", type=int, default=125_000, metavar="N",
                   help="Optimizer updates (default 125000, the paper's).")
    p.add_argument("--batch-size", type=int, default=32, metavar="N",
                   help="Global batch per step, over all replicas "
                        "(default 32; the paper used 4096).")
    p.add_argument("--sequence-length", type=int, default=128, metavar="N",
                   help="Tokens per example (default 128).")
    p.add_argument("--max-predictions", type=int, default=20, metavar="N",
                   help="Masked positions per example (default 20).")
    p.add_argument("--learning-rate", type=float, default=None,
                   metavar="LR",
                   help="Peak LAMB rate. Default: the paper's 0.00176 at "
                        "batch 4096 scaled by sqrt(effective batch / 4096).")
    p.add_argument("--warmup-steps", type=int, default=None, metavar="N",
                   help="Linear warm-up updates (default 2.5%% of --steps).")
    p.add_argument("--accumulation-steps", type=int, default=1, metavar="N",
                   help="Batches accumulated into one update (effective "
                        "batch = batch size x N).")
    p.add_argument("--mixed-precision", default="none",
                   choices=["none", "mixed_bfloat16", "mixed_float16"],
                   help="Compute dtype policy (mixed_float16 adds dynamic "
                        "loss scaling). Default: float32.")
    p.add_argument("--strategy", default="none",
                   choices=list(STRATEGIES),
                   help="Data parallelism: mirrored (local GPUs, TF), "
                        "multi_worker (TF_CONFIG cluster, TF), tpu (TF), "
                        "data_parallel (all devices, JAX). Default: none.")
    p.add_argument("--tpu", default=None, metavar="NAME",
                   help="TPU name or address for --strategy tpu.")
    p.add_argument("--logical-cpus", type=int, default=0, metavar="N",
                   help="Split the CPU into N TF devices (to try "
                        "--strategy mirrored without GPUs).")
    p.add_argument("--checkpoint-every", type=int, default=1000, metavar="N",
                   help="Updates between resumable checkpoints "
                        "(default 1000).")
    p.add_argument("--log-every", type=int, default=100, metavar="N",
                   help="Updates between console/TensorBoard lines "
                        "(default 100).")
    p.add_argument("--seed", type=int, default=0,
                   help="Seed of initialisation and data (default 0).")
    p.set_defaults(func=run_pretrain)
    return p


def _backbone_overrides(value):
    """The `--backbone-config` object, its keys and values checked like
    `AlbertBackbone`'s arguments (a typo such as `num_layerz` is an error
    with a did-you-mean suggestion, not a silently ignored setting)."""
    from keras_albert.models.backbone_arguments import (
        check_backbone_arguments,
    )

    if not value:
        return {}
    if os.path.isfile(value):
        try:
            with open(value, encoding="utf-8") as f:
                overrides = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SystemExit(
                f"--backbone-config {value}: not a readable JSON file: {e}")
    else:
        try:
            overrides = json.loads(value)
        except json.JSONDecodeError as e:
            raise SystemExit(
                f"--backbone-config is neither a file nor JSON: {e}")
    if not isinstance(overrides, dict):
        raise SystemExit("--backbone-config must be a JSON object.")
    try:
        return check_backbone_arguments(overrides)
    except ValueError as e:
        raise SystemExit(f"--backbone-config: {e}") from None


def _resolve_tokenizer(args, files, chief):
    """The tokenizer: --tokenizer, the preset's, or one trained here."""
    from keras_albert.preprocessing import AlbertTokenizer
    from keras_albert.preprocessing import train_sentencepiece
    from keras_albert.presets import loader

    if args.tokenizer:
        return AlbertTokenizer(proto=args.tokenizer)
    tokenizer = loader.load_tokenizer(args.preset)
    if tokenizer is not None:
        return tokenizer
    path = os.path.join(args.output, "tokenizer", "spiece.model")
    if not os.path.isfile(path):
        if not chief:
            # Training is deterministic (one thread, fixed seed): other
            # workers train the same model privately instead of writing
            # into the chief's directory.
            import tempfile

            path = os.path.join(tempfile.mkdtemp(), "spiece.model")
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"Training a {args.vocab_size}-piece SentencePiece model on "
              f"{len(files)} file(s) -> {path}", flush=True)
        train_sentencepiece(files, path, vocabulary_size=args.vocab_size,
                            seed=args.seed)
    return AlbertTokenizer(proto=path)


def config_from_args(args, vocabulary_size=None):
    """The `PretrainingConfig` a parsed command line describes.

    Args:
        args: parsed `pretrain` arguments.
        vocabulary_size: optional tokenizer size; sets the backbone's
            vocabulary when the preset is initialised from scratch.

    Returns:
        A `PretrainingConfig`.
    """
    from keras_albert.pretraining.pretraining_config import PretrainingConfig
    from keras_albert.pretraining.pretraining_config import (
        is_architecture_name,
    )

    overrides = _backbone_overrides(args.backbone_config)
    if vocabulary_size is not None and is_architecture_name(args.preset):
        overrides.setdefault("vocabulary_size", int(vocabulary_size))
    return PretrainingConfig(
        preset=args.preset,
        backbone_overrides=overrides,
        sequence_length=args.sequence_length,
        max_predictions_per_seq=args.max_predictions,
        batch_size=args.batch_size,
        steps=args.steps,
        warmup_steps=args.warmup_steps,
        learning_rate=args.learning_rate,
        gradient_accumulation_steps=args.accumulation_steps,
        mixed_precision=args.mixed_precision,
        strategy=args.strategy,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
        output_dir=args.output,
        seed=args.seed,
    )


def run_pretrain(args):
    """Handler of `pretrain`; returns the process exit code."""
    from keras_albert.pretraining import distribution

    # A bad --backbone-config fails now, not after a tokenizer is trained.
    _backbone_overrides(args.backbone_config)
    # Devices and collectives first: TensorFlow fixes them when its runtime
    # starts, which loading a tokenizer already does.
    if args.logical_cpus:
        distribution.configure_logical_cpus(args.logical_cpus)
    strategy = distribution.make_strategy(args.strategy, tpu=args.tpu)
    chief = distribution.is_chief(strategy)

    from keras_albert.pretraining.documents import expand_paths
    from keras_albert.pretraining.pretraining_dataset import (
        make_pretraining_dataset)
    from keras_albert.pretraining.trainer import pretrain

    files = expand_paths(args.corpus)
    if not files:
        raise SystemExit(f"No corpus files found in {args.corpus}.")
    tokenizer = _resolve_tokenizer(args, files, chief)
    config = config_from_args(args, tokenizer.vocabulary_size())

    def dataset_fn(start_batches):
        # A resumed run re-seeds the stream by its position: fresh,
        # reproducible examples, without regenerating the skipped ones.
        return make_pretraining_dataset(
            files, tokenizer, sequence_length=config.sequence_length,
            max_predictions_per_seq=config.max_predictions_per_seq,
            batch_size=config.batch_size, seed=config.seed + start_batches,
            repeat=True)

    result = pretrain(config, dataset_fn, tokenizer=tokenizer,
                      print_fn=lambda line: print(line, flush=True),
                      strategy=strategy)
    if chief:
        print(f"Done: {result.final_step} updates; model in "
              f"{result.preset_dir}.", flush=True)
    return 0
