"""`keras-albert finetune`: fine-tune a preset on a task from data files.

Example:
```
keras-albert finetune --task classify --preset base \
    --train glue/SST-2/train.tsv --eval glue/SST-2/dev.tsv --output sst2/
keras-albert finetune --task regress --preset base \
    --train glue/STS-B/train.tsv --eval glue/STS-B/dev.tsv --output stsb/
keras-albert finetune --task classify --preset sst2/ \
    --train glue/SST-2/train.tsv --eval glue/SST-2/dev.tsv \
    --output sst2_pabee/ --early-exit-patience 6 --train-exits-only
keras-albert finetune --task ner --preset base --train conll/train.txt \
    --eval conll/valid.txt --output ner/ --layer-decay 0.9
keras-albert finetune --task squad --preset base --train train-v2.0.json \
    --eval dev-v2.0.json --sequence-length 384 --output squad2/
keras-albert finetune --task race --preset base --train RACE/train \
    --eval RACE/dev --sequence-length 512 --output race/
```

Prints Keras' progress bar while training, then the task's metrics on
`--eval` (GLUE scores, entity F1, SQuAD EM/F1 or RACE accuracy), and saves
the fine-tuned model as a preset directory that `from_preset` restores.
"""

import json
import math
import os

TASKS = ("classify", "regress", "ner", "squad", "race")

FILE_LAYOUTS = """\
data files:
  classify/regress  CSV (.csv), TSV (.tsv, GLUE style: no quoting) or JSON
                    Lines (.jsonl), UTF-8. With a header row, the text
                    column is found by name (sentence1/sentence2,
                    question1/question2, premise/hypothesis,
                    question/sentence, #1 String/#2 String, text_a/text_b,
                    sentence, text) and the label by label, score,
                    gold_label, Quality or labels; --text-column,
                    --text-pair-column and --label-column name others.
                    Without a header row, give column indexes from 0, e.g.
                    CoLA: --text-column 3 --label-column 1.
  ner               CoNLL: one "word ... tag" line per token (tag last),
                    blank lines between sentences.
  squad             SQuAD v1.1 / v2.0 JSON.
  race              a RACE directory of .txt files, one .txt/.json file, or
                    JSON Lines.
"""


def no_tokenizer_advice(preset):
    """What to do when `preset` has no tokenizer (each way is tested)."""
    convert = (f"write a preset that holds it: `keras-albert convert "
               f"{preset} NEW_PRESET --tokenizer spiece.model`, then "
               "--preset NEW_PRESET")
    if os.path.isdir(preset):
        convert = (f"put it into the preset folder (`cp spiece.model "
                   f"{preset}/`), or {convert}")
    return (f"{preset!r} has no tokenizer, so raw text cannot be tokenized. "
            "Use the SentencePiece model it was trained with: " + convert
            + ".")


def _column(value):
    """A column name, or an index (from 0) for files without a header."""
    return int(value) if value.isdigit() else value


def _positive_int(value):
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


_positive_int.__name__ = "positive integer"


def _positive_float(value):
    number = float(value)
    if not number > 0:
        raise ValueError(value)
    return number


_positive_float.__name__ = "positive number"


def _check_arguments(args):
    """Refuses bad settings and outputs before any data is read or any
    step is trained, so a long run is never thrown away at the end."""
    if not 0.0 <= args.warmup_ratio < 1.0:
        raise ValueError(
            f"--warmup-ratio must be in [0, 1); got {args.warmup_ratio}.")
    if not 0.0 < args.layer_decay <= 1.0:
        raise ValueError(
            f"--layer-decay must be in (0, 1]; got {args.layer_decay}.")
    if args.weight_decay < 0:
        raise ValueError(
            f"--weight-decay must be >= 0; got {args.weight_decay}.")
    early_exit = args.early_exit_patience is not None
    if (early_exit or args.train_exits_only) and args.task not in (
            "classify", "regress"):
        raise ValueError(
            "--early-exit-patience and --train-exits-only apply to "
            f"--task classify or regress; got --task {args.task}.")
    if args.train_exits_only and not early_exit:
        raise ValueError(
            "--train-exits-only trains the exits of an early-exit model; "
            "give --early-exit-patience too.")
    for flag, path in (("--train", args.train), ("--eval", args.eval)):
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(f"{flag} {path}: no such file.")
    if args.output:
        output = os.path.abspath(args.output)
        if os.path.exists(output) and not os.path.isdir(output):
            raise ValueError(
                f"--output {args.output} is an existing file; give a "
                "directory for the fine-tuned preset.")
        parent = os.path.dirname(output)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.access(parent, os.W_OK):
            raise PermissionError(
                f"--output {args.output}: {parent} is not writable.")


def _read(args, path, train_info=None):
    """`(x, y, info)` for one data file; `info` carries what the evaluation
    file must share with training (label names)."""
    if args.task in ("classify", "regress"):
        from keras_albert.datasets.text_classification import (
            load_text_classification,
        )

        x, y, names = load_text_classification(
            path, text_column=args.text_column,
            text_pair_column=args.text_pair_column,
            label_column=args.label_column,
            label_names=(train_info or {}).get("label_names"),
            regression=args.task == "regress", return_label_names=True,
        )
        if y is None:
            raise SystemExit(f"{path} has no label column; see --label-column.")
        return x, y, {"label_names": names}
    if args.task == "ner":
        from keras_albert.datasets.conll import conll_labels
        from keras_albert.datasets.conll import load_conll

        x, y = load_conll(path)
        return x, y, {"labels": (train_info or {}).get("labels")
                      or conll_labels(y)}
    if args.task == "squad":
        from keras_albert.datasets.squad import load_squad

        x, y = load_squad(path)
        return x, y, {}
    from keras_albert.datasets.race import load_race

    x, y = load_race(path)
    return x, y, {}


def _num_examples(x):
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    if isinstance(x, tuple):
        return len(x[0])
    return len(x)


def _build(args, train_y, info):
    import numpy as np

    import keras_albert

    kwargs = {}
    if args.sequence_length:
        kwargs["sequence_length"] = args.sequence_length
    classifier_cls = keras_albert.AlbertClassifier
    if args.early_exit_patience is not None:
        # PABEE: an exit after every layer; a fine-tuned classifier preset
        # keeps its head as the last exit.
        classifier_cls = keras_albert.AlbertEarlyExitClassifier
        kwargs.update(patience=args.early_exit_patience,
                      exits_trainable_only=args.train_exits_only)
        if args.task == "regress":
            kwargs["regression_threshold"] = args.early_exit_threshold
    if args.task == "classify":
        names = info["label_names"]
        num_classes = len(names) if names else int(np.max(train_y)) + 1
        if names and len(names) >= 2:
            # Saved with the model: predict_labels answers in these names.
            kwargs["label_names"] = names
        return classifier_cls.from_preset(
            args.preset, num_classes=max(num_classes, 2), **kwargs)
    if args.task == "regress":
        return classifier_cls.from_preset(
            args.preset, num_classes=1, **kwargs)
    if args.task == "ner":
        return keras_albert.AlbertTokenClassifier.from_preset(
            args.preset, labels=info["labels"], **kwargs)
    if args.task == "squad":
        model = keras_albert.AlbertQuestionAnswerer.from_preset(
            args.preset, **kwargs)
        if args.doc_stride and model.preprocessor is not None:
            model.preprocessor.doc_stride = args.doc_stride
        return model
    return keras_albert.AlbertMultipleChoice.from_preset(
        args.preset, num_choices=args.num_choices, **kwargs)


def run(args):
    """Runs the `finetune` subcommand; returns the metrics dict."""
    import keras

    from keras_albert.finetuning.finetuning_optimizer import (
        finetuning_optimizer,
    )
    from keras_albert.presets.preset_files import preset_directory

    _check_arguments(args)
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    x, y, info = _read(args, args.train)
    eval_data = _read(args, args.eval, info) if args.eval else None
    model = _build(args, y, info)
    if model.preprocessor is None:
        raise SystemExit(no_tokenizer_advice(args.preset))
    steps_per_epoch = math.ceil(_num_examples(x) / args.batch_size)
    model.compile(optimizer=finetuning_optimizer(
        model, args.learning_rate, total_steps=args.epochs * steps_per_epoch,
        warmup_ratio=args.warmup_ratio, weight_decay=args.weight_decay,
        layer_decay=args.layer_decay,
    ))
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs,
              verbose=1 if args.progress else 2)
    metrics = {}
    if eval_data is not None:
        eval_x, eval_y, _ = eval_data
        metrics = model.task_metrics(eval_x, eval_y,
                                     batch_size=args.batch_size)
        width = max(len(k) for k in metrics)
        print(f"\n{args.task} on {args.eval} "
              f"({_num_examples(eval_x)} examples):")
        for name, value in metrics.items():
            print(f"  {name:<{width}}  {value:.4f}")
    if args.output:
        # The preset and its scores appear together or not at all; a
        # previous model in --output stays loadable if writing fails.
        with preset_directory(args.output) as out:
            model.save_to_preset(out)
            with open(os.path.join(out, "finetune_metrics.json"), "w",
                      encoding="utf-8") as f:
                json.dump({"task": args.task, "train": args.train,
                           "eval": args.eval, "metrics": metrics}, f,
                          indent=2)
        print(f"Saved the fine-tuned model to {args.output}")
    return metrics


def add_parser(subparsers):
    """Adds `finetune --task ... --preset ... --train ...`."""
    import argparse

    parser = subparsers.add_parser(
        "finetune", help="Fine-tune a preset on a task from data files.",
        description=__doc__.split("\n\n")[0],
        epilog=FILE_LAYOUTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", choices=TASKS, required=True,
                        help="classify/regress: CSV, TSV or JSONL; ner: "
                             "CoNLL; squad: SQuAD v1.1/v2.0 JSON; race: "
                             "RACE directory, .txt or JSONL.")
    parser.add_argument("--preset", required=True,
                        help="Anything `from_preset` accepts.")
    parser.add_argument("--train", required=True)
    parser.add_argument("--eval", default=None)
    parser.add_argument("--output", default=None,
                        help="Preset directory to save the model to.")
    parser.add_argument("--epochs", type=_positive_int, default=3)
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument("--learning-rate", type=_positive_float,
                        default=2e-5)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--layer-decay", type=float, default=1.0,
                        help="Layer-wise learning-rate decay in (0, 1]; "
                             "1 disables it.")
    parser.add_argument("--sequence-length", type=_positive_int,
                        default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--text-column", type=_column, default=None,
                        help="classify/regress: the text column's name, or "
                             "its index from 0 in a file without a header "
                             "row.")
    parser.add_argument("--text-pair-column", type=_column, default=None,
                        help="classify/regress: the second text of pairs.")
    parser.add_argument("--label-column", type=_column, default=None,
                        help="classify/regress: the label column.")
    parser.add_argument("--doc-stride", type=_positive_int, default=None,
                        help="squad: overlap between context windows.")
    parser.add_argument("--num-choices", type=_positive_int, default=4,
                        help="race: options per question.")
    parser.add_argument("--early-exit-patience", type=_positive_int,
                        default=None, metavar="N",
                        help="classify/regress: train an early-exit model "
                             "(PABEE): a classifier after every layer; at "
                             "inference an input stops once N consecutive "
                             "layers agree. Reports mean_layers_used.")
    parser.add_argument("--early-exit-threshold", type=_positive_float,
                        default=0.1,
                        help="regress with --early-exit-patience: the "
                             "largest score change that counts as agreeing.")
    parser.add_argument("--train-exits-only", action="store_true",
                        help="with --early-exit-patience on a fine-tuned "
                             "classifier preset: freeze it and train only "
                             "the new exits.")
    parser.add_argument("--no-progress", dest="progress",
                        action="store_false",
                        help="One line per epoch instead of a progress bar.")
    parser.set_defaults(func=run)
    return parser
