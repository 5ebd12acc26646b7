"""`keras-albert export`: a preset directory to a SavedModel or TFLite file.

Example:
```
keras-albert export ./my-classifier savedmodels --format saved_model \
    --model-name albert_classifier --version 1
keras-albert export ./my-classifier tflite/classifier.tflite \
    --format tflite --quantization dynamic_int8 --check
```

With `--model-name`, the SavedModel goes to OUT/NAME/VERSION/, NAME is added
to OUT/models.config (TF Serving's model config; models already listed are
kept), and the `docker run` and `curl` lines that serve and query it are
printed. `--check` loads the export in a fresh Python process and runs each
signature on an example.
"""

import os


def _load(preset, task):
    from keras_albert.preprocessing import AlbertPreprocessor
    from keras_albert.presets import loader
    from keras_albert.tasks import task_registry

    task_registry.checked_model_name(task, exportable_only=True)
    if task == "auto":
        task = task_registry.detect_task(preset)
    cls = task_registry.model_class(task)
    if not cls.exportable:
        raise SystemExit(
            f"export serves fine-tuned tasks and backbones; {preset!r} holds "
            f"a {task!r}. Use `--task backbone` for its encoder."
        )
    if task != task_registry.BACKBONE:
        return cls.from_preset(preset), None
    backbone = cls.from_preset(preset)
    # A backbone has no preprocessor of its own; use the preset's tokenizer
    # so the SavedModel still takes strings.
    preprocessor = loader.load_preprocessor(
        preset, AlbertPreprocessor,
        max_sequence_length=backbone.max_sequence_length,
    )
    return backbone, preprocessor


def run(args):
    """Runs the `export` subcommand; returns the path written."""
    # Export needs TF graphs; choose the backend before Keras is imported
    # (an explicit KERAS_BACKEND=jax still works for SavedModel).
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if args.format == "saved_model" and args.quantization:
        raise ValueError("--quantization applies to --format tflite.")
    from keras_albert.export import export_saved_model
    from keras_albert.export import export_tflite

    model, preprocessor = _load(args.preset, args.task)
    pre = "auto" if preprocessor is None else preprocessor
    if args.format == "saved_model":
        out = args.out
        if args.model_name:
            # TF Serving layout: <base>/<model_name>/<version>/
            out = os.path.join(out, args.model_name, str(args.version))
        path = export_saved_model(
            model, out, preprocessor=pre,
            text_signatures=not args.token_ids_only)
    else:
        out = args.out
        if not out.endswith(".tflite"):
            out = os.path.join(out, (args.model_name or "model") + ".tflite")
        path = export_tflite(model, out, quantization=args.quantization,
                             preprocessor=pre)
    print(path)
    if args.format == "saved_model" and args.model_name:
        _print_serving(args, model, _takes_text(args, model, preprocessor))
    if args.check:
        _print_check(path)
    return path


def _takes_text(args, model, preprocessor):
    """Whether the SavedModel's `serving_default` takes raw text (what
    `export_saved_model` decides from the same facts)."""
    if preprocessor is None:
        preprocessor = getattr(model, "preprocessor", None)
    return (not args.token_ids_only and preprocessor is not None
            and getattr(type(model), "text_signatures", False))


def _print_serving(args, model, text):
    """Lists the model in OUT/models.config and prints how to serve it."""
    from keras_albert.export import serving_config

    config, names = serving_config.add_model(args.out, args.model_name)
    print(f"{config} lists {', '.join(names)}.")
    docker, curl = serving_config.serving_commands(
        args.out, args.model_name, text,
        num_choices=getattr(model, "num_choices", None))
    print("Serve every model listed there with TF Serving, then query "
          f"{args.model_name}:")
    print(f"  {docker}")
    print(f"  {curl}")
    if text:
        print("  (serving_default takes raw text: the server needs "
              "tensorflow-text's SentencePiece ops; if it answers \"Op type "
              "not registered\", export again with --token-ids-only.)")


def _print_check(path):
    from keras_albert.export.export_check import check_export

    report = check_export(path)
    print("Checked in a fresh Python process:")
    for signature, outputs in report.items():
        shapes = ", ".join(f"{name} {tuple(shape)}"
                           for name, shape in sorted(outputs.items()))
        print(f"  {signature}: {shapes}")


def add_parser(subparsers):
    """Adds `export PRESET_DIR OUT --format ...` to a subparsers object."""
    import argparse

    parser = subparsers.add_parser(
        "export",
        help="Export a classifier or backbone to a SavedModel or TFLite.",
        description=__doc__.split("\n\n")[0] + "\n\n" + (
            __doc__.split("\n\n")[2].strip()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("preset", metavar="PRESET_DIR",
                        help="Anything `from_preset` accepts.")
    parser.add_argument(
        "out", metavar="OUT",
        help="SavedModel: the version directory, or with --model-name the "
             "TF Serving base (e.g. savedmodels). TFLite: a .tflite path or "
             "a directory.")
    parser.add_argument("--format", choices=("saved_model", "tflite"),
                        default="saved_model")
    parser.add_argument("--quantization",
                        choices=("float16", "dynamic_int8"), default=None,
                        help="TFLite only; default float32.")
    # Checked against the model registry when the command runs: listing
    # the names here would import Keras for `--help`.
    parser.add_argument(
        "--task", default="auto", metavar="TASK",
        help="'auto' (default: what the preset holds) or an exportable "
             "model name such as classifier or backbone; an unknown name "
             "is refused with the list of names.")
    parser.add_argument("--model-name", default=None,
                        help="Write OUT/<model-name>/<version>/ and list it "
                             "in OUT/models.config.")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument(
        "--token-ids-only", action="store_true",
        help="SavedModel without the in-graph tokenizer: serving_default "
             "takes token ids and needs no tensorflow-text ops (stock TF "
             "Serving); spiece.model is still written to assets.extra.")
    parser.add_argument(
        "--check", action="store_true",
        help="Load the export in a fresh Python process (as a server "
             "would) and run each signature on an example.")
    parser.set_defaults(func=run)
    return parser
