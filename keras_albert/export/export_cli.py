"""`keras-albert export`: a preset directory to a SavedModel or TFLite file.

Example:
```
keras-albert export ./my-classifier savedmodels --format saved_model \
    --model-name albert_classifier --version 1
keras-albert export ./my-classifier tflite/classifier.tflite \
    --format tflite --quantization dynamic_int8
```
"""

import os


def _load(preset, task):
    from keras_albert.preprocessing import AlbertPreprocessor
    from keras_albert.presets import loader
    from keras_albert.tasks import task_registry

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
    from keras_albert.export import export_saved_model
    from keras_albert.export import export_tflite

    model, preprocessor = _load(args.preset, args.task)
    pre = "auto" if preprocessor is None else preprocessor
    if args.format == "saved_model":
        if args.quantization:
            raise SystemExit("--quantization applies to --format tflite.")
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
    return path


def add_parser(subparsers):
    """Adds `export PRESET_DIR OUT --format ...` to a subparsers object."""
    from keras_albert.tasks import task_registry

    parser = subparsers.add_parser(
        "export",
        help="Export a classifier or backbone to a SavedModel or TFLite.",
        description=__doc__.split("\n\n")[0],
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
    parser.add_argument("--task", default="auto", choices=(
        "auto", *task_registry.model_names(exportable_only=True)))
    parser.add_argument("--model-name", default=None,
                        help="Write OUT/<model-name>/<version>/.")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument(
        "--token-ids-only", action="store_true",
        help="SavedModel without the in-graph tokenizer: serving_default "
             "takes token ids and needs no tensorflow-text ops (stock TF "
             "Serving); spiece.model is still written to assets.extra.")
    parser.set_defaults(func=run)
    return parser
