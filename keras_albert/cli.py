"""The `keras-albert` command line.

Each subcommand is one `_add_<name>_parser(subparsers)` function that
declares its arguments and sets `func` to the function that runs it, so
new subcommands are added without touching the others.

Example:
```
keras-albert convert hf://albert/albert-base-v2 ./albert-base --format keras_albert
keras-albert convert albert_base_v2.tar.gz ./albert-base-hf --format hf --task pretrainer
keras-albert convert ./my-classifier ./my-classifier-hf --format hf
```
"""

import argparse
import sys

def convert(source, destination, format="keras_albert", task="auto",
            num_classes=None, tokenizer=None):
    """Loads `source` (anything `from_preset` accepts) and writes it to
    `destination` as `format`; returns the model written.

    Args:
        source: anything `from_preset` accepts.
        destination: output directory.
        format: `"keras_albert"`, `"hf"` or `"google"`.
        task: `"auto"` (the richest model `source` holds) or a model name
            of `task_registry.model_names()`.
        num_classes: int or None. Classes of a fresh classifier head.
        tokenizer: path to a SentencePiece `spiece.model`, written with the
            model (and used by its preprocessor) in place of the source's
            tokenizer; None keeps the source's, if it has one.
    """
    from tqdm.auto import tqdm

    from keras_albert.preprocessing import AlbertTokenizer
    from keras_albert.presets import loader
    from keras_albert.tasks import task_registry

    task = task_registry.checked_model_name(task, flag="--task")
    if tokenizer is not None:
        tokenizer = AlbertTokenizer(proto=tokenizer)
    if task == "auto":
        task = task_registry.detect_task(source)
    cls = task_registry.model_class(task)
    if task == task_registry.BACKBONE:
        model = cls.from_preset(source)
        backbone = model
    else:
        kwargs = {}
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        # Restores a saved task whole; a bare backbone gets a fresh head.
        model = cls.from_preset(source, **kwargs)
        backbone = model.backbone
    if tokenizer is None and getattr(model, "preprocessor", None) is None:
        # A backbone, or a task without a preprocessor (a pretrainer):
        # the source's tokenizer is written along.
        tokenizer = loader.load_tokenizer(source)
    elif tokenizer is not None:
        _check_vocabulary(tokenizer, backbone)
        if backbone is not model and cls.preprocessor_cls is not None:
            _attach_tokenizer(model, tokenizer, loader)
    with tqdm(total=len(model.weights), unit="tensor",
              desc=f"writing {format}") as bar:
        loader.save_preset(model, destination, format=format,
                           tokenizer=tokenizer, progress=bar.update)
    return model


def _check_vocabulary(tokenizer, backbone):
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"--tokenizer has {tokenizer.vocabulary_size()} pieces but the "
            f"model embeds only {backbone.vocabulary_size} token ids; use "
            "the SentencePiece model the model was trained with.")


def _attach_tokenizer(task, tokenizer, loader):
    """Gives `task` a preprocessor on `tokenizer`: the task's own with its
    tokenizer replaced, or a new one with the class's defaults."""
    if task.preprocessor is not None:
        task.preprocessor.tokenizer = tokenizer
        return
    task.preprocessor = loader.build_preprocessor(
        type(task).preprocessor_cls, tokenizer,
        task.backbone.max_sequence_length)


def _run_convert(args):
    model = convert(args.source, args.destination, format=args.format,
                    task=args.task, num_classes=args.num_classes,
                    tokenizer=args.tokenizer)
    print(f"Wrote {type(model).__name__} ({model.count_params():,} "
          f"parameters) to {args.destination} as {args.format}.")
    return 0


def _add_convert_parser(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="Convert ALBERT weights between formats.",
        description=(
            "Converts between keras-albert presets, Hugging Face folders "
            "(hf://owner/name or local), Google's original checkpoints "
            "(.tar.gz or folder), KerasHub presets (kaggle:// or local) and "
            "named presets (base, large-v1, ...). The source's tokenizer "
            "is written along; --tokenizer gives one to a source without "
            "(or replaces it)."
        ),
    )
    parser.add_argument("source", help="Anything `from_preset` accepts.")
    parser.add_argument("destination", help="Output directory.")
    parser.add_argument(
        "--format", default="keras_albert",
        choices=("keras_albert", "hf", "google"),
        help="Output format (default: keras_albert).",
    )
    # Checked against the model registry when the command runs: listing
    # the names here would import Keras for `--help`.
    parser.add_argument(
        "--task", default="auto", metavar="TASK",
        help="Model to convert: 'auto' (default: the richest the source "
             "holds) or a model name such as backbone or classifier; an "
             "unknown name is refused with the list of names.",
    )
    parser.add_argument(
        "--num-classes", type=int, default=None,
        help="Classes of a classifier head (default: the source's).",
    )
    parser.add_argument(
        "--tokenizer", default=None, metavar="SPIECE_MODEL",
        help="SentencePiece .model file to write with the model (e.g. "
             "for a preset saved without one).",
    )
    parser.set_defaults(func=_run_convert)


class _OneLineErrorParser(argparse.ArgumentParser):
    """Reports a usage mistake in one line (no usage block); subcommand
    parsers are of the same class."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser():
    parser = _OneLineErrorParser(
        prog="keras-albert",
        description="ALBERT for Keras 3: convert, train and serve.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="Show the full traceback when a command fails.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # These modules import Keras and TensorFlow only inside their commands'
    # run functions, so `--help` answers at once.
    from keras_albert import quickstart
    from keras_albert.export import export_cli
    from keras_albert.finetuning import finetune_cli
    from keras_albert.pretraining import pretrain_cli
    from keras_albert.pretraining import tokenizer_cli

    quickstart.add_parser(subparsers)
    tokenizer_cli.add_parser(subparsers)
    pretrain_cli.add_parser(subparsers)
    _add_convert_parser(subparsers)
    export_cli.add_parser(subparsers)
    finetune_cli.add_parser(subparsers)
    return parser


def _one_line(error):
    """An exception as one line: its message with whitespace runs folded;
    errors that are not a user's mistake also name their type."""
    from keras_albert.presets.errors import PresetError

    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (ValueError, OSError, PresetError, KeyError)):
        return message
    return (f"{type(error).__name__}: {message} (rerun with --debug for the "
            "traceback)")


def main(argv=None):
    """Entry point of the `keras-albert` command; returns the exit code.

    A failing command prints one line naming the problem and returns 1;
    `--debug` (or `KERAS_ALBERT_DEBUG=1`) shows the traceback instead.
    """
    import os

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("KERAS_ALBERT_DEBUG") == "1"
    # Before any command imports Keras: TensorFlow's start-up log lines
    # (CUDA probing on CPU-only machines, INFO lines) are not the
    # command's output.
    from keras_albert.utils.native_logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print(f"keras-albert {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - every failure becomes one line
        if debug:
            raise
        print(f"keras-albert {args.command}: {_one_line(e)}", file=sys.stderr)
        return 1
    # Subcommands return what they made (a path, metrics) for callers in
    # Python; only an int is an exit status.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
