"""Float vs Keras int8 (`model.quantize("int8")`) vs TFLite dynamic int8:
ms per batch, size on disk and agreement, on every Keras backend.

What is measured
----------------
One `AlbertClassifier` (the `base` preset's architecture with random
weights, `num_classes=2`, no dropout; `--layers` sets its depth, default
12; `--quick` a tiny model), called on one fixed batch of `--batch-size` x
`--seq-len` token ids (`numpy.random.default_rng(0)`, no padding) by:

- `keras float` and `keras int8`, on each backend in `--backends` (one
  subprocess each: Keras fixes its backend per process). A call is
  `predict_on_batch`: TensorFlow `graph` (`jit_compile=False`) and `xla`
  (`jit_compile=True`), JAX `jit`, PyTorch `eager`. The int8 model is the
  float one after `quantize("int8")`, on the same weights.
- `tflite float32` and `tflite dynamic_int8` (TensorFlow worker only):
  `keras_albert.export.export_tflite` files run with LiteRT on all cores.

Columns: `ms/batch` is the median of `--iters` timed calls after
`--warmup` untimed ones (the first call, with its compile, is untimed);
`vs float` divides the float row's `ms/batch` of the same backend and
setting (TFLite: the TFLite float32 row) by this one (above 1: faster);
`max abs diff` is the largest change of any logit from the float Keras
model of the same backend; `same labels` the share of rows whose argmax
agrees with it (random weights and random tokens: a stress test for near
ties, not a task accuracy; `tests/tasks/test_quantize.py` checks agreement
on a trained classifier); `size MB` the weights on disk (`.weights.h5`,
or the `.tflite` file). The 1-minute load average is printed: on a shared
machine a high load makes every number pessimistic.

Usage
-----
    python benchmarks/int8.py                       # base, 8 x 128, TF/JAX/torch
    python benchmarks/int8.py --layers 4 --iters 3  # shorter
    python benchmarks/int8.py --backends jax --json out.json
    python benchmarks/int8.py --quick               # tiny model, smoke run
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK_CONFIG = dict(vocabulary_size=128, num_layers=2, num_heads=2,
                    embedding_dim=16, hidden_dim=32, intermediate_dim=64,
                    max_sequence_length=64, num_segments=2)
# Keras settings timed per backend: (setting, jit_compile).
SETTINGS = {"tensorflow": (("graph", False), ("xla", True)),
            "jax": (("jit", True),), "torch": (("eager", False),)}
COLUMNS = ("backend", "setting", "model", "ms/batch", "vs float",
           "max abs diff", "same labels", "size MB")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default="tensorflow,jax,torch")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--no-tflite", action="store_true",
                   help="skip the TFLite rows")
    p.add_argument("--quick", action="store_true",
                   help="tiny model, one timed call; for smoke tests")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.seq_len = min(args.seq_len, 32)
        args.iters = 1
        args.warmup = 0
    return args


def _median_ms(fn, iters, warmup):
    fn()  # the first call traces and compiles
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _size_mb(path):
    return os.path.getsize(path) / 2**20


def _compare(logits, reference):
    import numpy as np

    return {
        "max abs diff": float(np.max(np.abs(logits - reference))),
        "same labels": float(np.mean(
            logits.argmax(-1) == reference.argmax(-1))),
    }


def _build(args):
    import keras

    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    keras.utils.set_random_seed(0)
    if args.quick:
        backbone = AlbertBackbone(**QUICK_CONFIG)
    else:
        backbone = AlbertBackbone.from_preset(
            "base", load_weights=False, num_layers=args.layers)
    return AlbertClassifier(backbone, num_classes=2, dropout=0.0)


def _inputs(args, vocabulary_size):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.seq_len)
    ids = rng.integers(5, vocabulary_size, shape)
    ids[:, 0], ids[:, -1] = 2, 3
    return {"token_ids": ids.astype("int32"),
            "segment_ids": np.zeros(shape, "int32"),
            "padding_mask": np.ones(shape, "int32")}


def _tflite_rows(args, model, x, workdir):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    rows, reference = [], None
    float_ms = None
    for quantization in (None, "dynamic_int8"):
        name = quantization or "float32"
        path = os.path.join(workdir, f"{name}.tflite")
        export_tflite(model, path, quantization=quantization,
                      preprocessor=None)
        runner = TFLiteModel(path)
        logits = runner(x)["logits"]
        ms = _median_ms(lambda: runner(x), args.iters, args.warmup)
        float_ms = float_ms or ms
        reference = logits if reference is None else reference
        rows.append(dict(setting="litert", model=f"tflite {name}",
                         **{"ms/batch": ms, "vs float": float_ms / ms,
                            "size MB": _size_mb(path)},
                         **_compare(logits, reference)))
    return rows


def worker(args):
    import keras
    import numpy as np

    backend = keras.backend.backend()
    model = _build(args)
    x = _inputs(args, model.backbone.vocabulary_size)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        if backend == "tensorflow" and not args.no_tflite:
            # Exported from the float model, before it is quantized.
            tflite = _tflite_rows(args, model, x, workdir)
        else:
            tflite = []
        float_path = os.path.join(workdir, "float.weights.h5")
        model.save_weights(float_path)
        results = {}
        for kind in ("float", "int8"):
            if kind == "int8":
                model.quantize("int8")
                path = os.path.join(workdir, "int8.weights.h5")
                model.save_weights(path)
            for setting, jit in SETTINGS[backend]:
                if backend == "tensorflow":
                    model.compile(jit_compile=jit)
                logits = np.asarray(keras.ops.convert_to_numpy(
                    model.predict_on_batch(x)))
                ms = _median_ms(lambda: model.predict_on_batch(x),
                                args.iters, args.warmup)
                results[kind, setting] = (ms, logits)
                float_ms, float_logits = results["float", setting]
                rows.append(dict(
                    setting=setting, model=f"keras {kind}",
                    **{"ms/batch": ms, "vs float": float_ms / ms,
                       "size MB": _size_mb(float_path if kind == "float"
                                           else path)},
                    **_compare(logits, float_logits)))
    for row in rows + tflite:
        row["backend"] = backend
        print(json.dumps(row), flush=True)


def _format(row, column):
    value = row.get(column, "")
    if isinstance(value, float):
        if column == "max abs diff":
            return f"{value:.1e}"
        if column == "same labels":
            return f"{value:.0%}"
        return f"{value:.2f}" if column == "vs float" else f"{value:.1f}"
    return str(value)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:])]
    results = []
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend,
                   TF_CPP_MIN_LOG_LEVEL="2")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--worker", backend,
             *forwarded],
            capture_output=True, text=True, env=env, cwd=REPO_ROOT,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit(f"the {backend} worker failed")
        results += [json.loads(line) for line in proc.stdout.splitlines()
                    if line.startswith("{")]
    config = ("tiny (--quick)" if args.quick
              else f"ALBERT-base, {args.layers} layers")
    print(f"{config}, batch {args.batch_size} x {args.seq_len} tokens, "
          f"{os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in results:
        print("| " + " | ".join(_format(row, c) for c in COLUMNS) + " |")
    if args.json:
        from keras_albert.utils.atomic_files import atomic_file

        with atomic_file(args.json, encoding="utf-8") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
