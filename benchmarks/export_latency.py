"""Latency and file size of an ALBERT classifier as Keras, SavedModel and
TFLite (float32 / float16 / dynamic int8), on the same inputs, in one run.

What is measured
----------------
One `AlbertClassifier` (default: the `base` preset's architecture with
random weights, `num_classes=2`; or a preset directory with `--preset`) is
exported with `keras_albert.export` and each artifact is called on the same
token ids:

- `keras`: the Keras model's serving form (`predict_on_batch`, a compiled
  `tf.function`; `--jit` adds XLA).
- `saved_model ids`: `tf.saved_model.load(dir).signatures["serve_token_ids"]`.
- `saved_model text`: the `serving_default` signature on raw strings, so
  in-graph tokenization is included (only when the model has a tokenizer:
  a preset directory with `spiece.model`, or `--quick`, which trains one).
- `tflite float32|float16|dynamic_int8`: `export_tflite` files run with
  LiteRT (`ai_edge_litert`, else `tf.lite.Interpreter`) on
  `--threads` threads (default: all cores, like TF).
- `transformers` (PyTorch eager, same dimensions, random weights): the
  reference a Hugging Face user would serve; it has no export step here.

Columns: `ms/call` is the median of `--iters` timed calls after `--warmup`
untimed ones (`best ms` the fastest), `size MB` the artifact on disk
(SavedModel: the whole directory), `max abs diff` the largest absolute
difference of the probabilities from the Keras model on the same inputs
(transformers has other weights, so none), `same labels` whether the
argmax agrees with Keras on every row.

Inputs: `--batch-size` x `--seq-len` token ids from
`numpy.random.default_rng(0)` (3..vocabulary-1, framed by [CLS]/[SEP]),
segment ids 0, no padding. Serving is usually one request at a time, so the
default batch is 1. For the text row, the same number of strings is built
from a fixed word list, long enough to fill `--seq-len` pieces.

Usage
-----
    KERAS_BACKEND=tensorflow python benchmarks/export_latency.py
    python benchmarks/export_latency.py --batch-size 8 --seq-len 128
    python benchmarks/export_latency.py --preset ./my_preset --json out.json
    python benchmarks/export_latency.py --quick                 # smoke run

Runs on the TensorFlow Keras backend (TFLite conversion needs it); the
script sets `KERAS_BACKEND=tensorflow` itself when it is unset.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

WORDS = ("the model reads a sentence and returns a label for it while the "
         "server answers many requests in parallel").split()
QUICK_CONFIG = dict(num_layers=2, num_heads=2, embedding_dim=16,
                    hidden_dim=32, intermediate_dim=64,
                    max_sequence_length=64, num_segments=2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="base",
                   help="named preset (architecture only, random weights) "
                        "or a preset directory (its weights and tokenizer)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--jit", action="store_true",
                   help="compile the Keras row with XLA")
    p.add_argument("--only", default="keras,saved_model,tflite,transformers",
                   help="comma-separated subset of "
                        "keras,saved_model,tflite,transformers")
    p.add_argument("--quick", action="store_true",
                   help="tiny model with its own tokenizer; for smoke tests")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--workdir", help="keep the exported files here "
                                     "(default: a temporary directory)")
    args = p.parse_args(argv)
    if args.quick:
        args.seq_len = min(args.seq_len, 32)
        args.iters = min(args.iters, 3)
        args.warmup = min(args.warmup, 1)
    return args


def build_model(args, workdir):
    import keras

    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    keras.utils.set_random_seed(0)
    if args.quick:
        from keras_albert import AlbertPreprocessor
        from keras_albert import AlbertTokenizer
        from keras_albert.preprocessing import train_sentencepiece

        corpus = os.path.join(workdir, "corpus.txt")
        with open(corpus, "w") as f:
            for i in range(200):
                f.write(" ".join(WORDS[i % 7:] + WORDS[:i % 7]) + "\n")
        spm = train_sentencepiece(corpus, os.path.join(workdir, "spm"),
                                  vocabulary_size=64)
        tokenizer = AlbertTokenizer(proto=spm)
        backbone = AlbertBackbone(
            vocabulary_size=tokenizer.vocabulary_size(), **QUICK_CONFIG)
        preprocessor = AlbertPreprocessor(tokenizer,
                                          sequence_length=args.seq_len)
        return AlbertClassifier(backbone, num_classes=2,
                                preprocessor=preprocessor, dropout=0.0)
    load_weights = os.path.isdir(args.preset)
    if not load_weights:
        backbone = AlbertBackbone.from_preset(args.preset, load_weights=False)
        return AlbertClassifier(backbone, num_classes=2, preprocessor=None,
                                dropout=0.0)
    return AlbertClassifier.from_preset(args.preset, num_classes=2,
                                        dropout=0.0)


def make_inputs(args, vocabulary_size):
    import numpy as np

    rng = np.random.default_rng(0)
    ids = rng.integers(3, vocabulary_size, (args.batch_size, args.seq_len))
    ids[:, 0], ids[:, -1] = 2, 3
    return {
        "token_ids": ids.astype("int32"),
        "segment_ids": np.zeros_like(ids, "int32"),
        "padding_mask": np.ones_like(ids, "int32"),
    }


def make_texts(args):
    words = (WORDS * (args.seq_len // len(WORDS) + 2))[:args.seq_len]
    return [" ".join(words[i % 5:] + words[:i % 5])
            for i in range(args.batch_size)]


def time_calls(fn, args):
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    for _ in range(args.warmup):
        fn()
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return out, first, times


def dir_size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(path) for f in files)


def softmax(x):
    import numpy as np

    x = np.asarray(x, "float64")
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def run(args):
    import keras
    import numpy as np

    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_saved_model
    from keras_albert.export import export_tflite
    from keras_albert.export.saved_model import serving_model

    only = set(args.only.split(","))
    workdir = args.workdir or tempfile.mkdtemp(prefix="export_latency_")
    os.makedirs(workdir, exist_ok=True)
    model = build_model(args, workdir)
    backbone = model.backbone
    inputs = make_inputs(args, backbone.vocabulary_size)
    texts = make_texts(args)
    rows = []

    serving = serving_model(model)
    serving.compile(jit_compile=args.jit)
    reference, first, times = time_calls(
        lambda: serving.predict_on_batch(inputs), args)
    ref_probs = np.asarray(reference["probabilities"], "float64")
    keras_path = os.path.join(workdir, "classifier.weights.h5")
    model.save_weights(keras_path)

    def add(name, out_probs, first, times, size, note=""):
        row = {
            "artifact": name,
            "ms/call": 1e3 * statistics.median(times),
            "best ms": 1e3 * min(times),
            "first call s": first,
            "size MB": None if size is None else size / 2**20,
            "max abs diff": None,
            "same labels": None,
            "note": note,
        }
        if out_probs is not None:
            out_probs = np.asarray(out_probs, "float64")
            row["max abs diff"] = float(np.max(np.abs(out_probs - ref_probs)))
            row["same labels"] = bool(np.array_equal(
                out_probs.argmax(-1), ref_probs.argmax(-1)))
        rows.append(row)

    if "keras" in only:
        add("keras" + (" (xla)" if args.jit else ""), ref_probs, first,
            times, dir_size(keras_path), "weights .h5")

    if "saved_model" in only:
        import tensorflow as tf

        sm_dir = os.path.join(workdir, "saved_model")
        shutil.rmtree(sm_dir, ignore_errors=True)
        export_saved_model(model, sm_dir)
        loaded = tf.saved_model.load(sm_dir)
        fn = loaded.signatures["serve_token_ids"]
        tf_inputs = {k: tf.constant(v) for k, v in inputs.items()}
        out, first, times = time_calls(
            lambda: {k: v.numpy() for k, v in fn(**tf_inputs).items()}, args)
        add("saved_model ids", out["probabilities"], first, times,
            dir_size(sm_dir))
        if model.preprocessor is not None:
            fn_text = loaded.signatures["serving_default"]
            text = tf.constant(texts)
            out, first, times = time_calls(
                lambda: {k: v.numpy()
                         for k, v in fn_text(text=text).items()}, args)
            # Other inputs than the id rows: compare with Keras on the text.
            packed = model.preprocessor.pack(texts)
            want = keras.ops.convert_to_numpy(
                serving(packed)["probabilities"])
            add("saved_model text", None, first, times, dir_size(sm_dir),
                "incl. tokenization; largest diff from keras on the text: "
                f"{np.max(np.abs(out['probabilities'] - want)):.1e}")

    if "tflite" in only:
        for quantization in (None, "float16", "dynamic_int8"):
            path = os.path.join(workdir,
                                f"classifier_{quantization or 'float32'}"
                                ".tflite")
            export_tflite(model, path, quantization=quantization)
            runner = TFLiteModel(path, num_threads=args.threads)
            out, first, times = time_calls(lambda: runner(inputs), args)
            add(f"tflite {quantization or 'float32'}",
                out["probabilities"], first, times, dir_size(path))

    if "transformers" in only:
        add_transformers(args, backbone, inputs, add)

    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def add_transformers(args, backbone, inputs, add):
    import torch
    import transformers

    from keras_albert.presets.huggingface import backbone_to_hf_config

    # The same dimensions and activation as ours, via the HF exporter.
    config = transformers.AlbertConfig(**dict(
        backbone_to_hf_config(backbone), num_labels=2,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.0,
    ))
    torch.manual_seed(0)
    model = transformers.AlbertForSequenceClassification(config).eval()
    feed = {
        "input_ids": torch.as_tensor(inputs["token_ids"], dtype=torch.long),
        "token_type_ids": torch.as_tensor(inputs["segment_ids"],
                                          dtype=torch.long),
        "attention_mask": torch.as_tensor(inputs["padding_mask"],
                                          dtype=torch.long),
    }

    def call():
        with torch.inference_mode():
            return model(**feed).logits.numpy()

    _, first, times = time_calls(call, args)
    add("transformers (torch eager)", None, first, times, None,
        f"random weights; {torch.get_num_threads()} threads")


def fmt(value, spec):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value, spec)


def print_table(args, rows):
    import tensorflow as tf

    print(f"# export latency: batch {args.batch_size} x {args.seq_len} "
          f"tokens, {args.iters} timed calls after {args.warmup} warm-up; "
          f"TF {tf.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores, TFLite threads {args.threads}, "
          f"load {os.getloadavg()[0]:.1f}")
    print()
    print("| artifact | ms/call | best ms | first call s | size MB "
          "| max abs diff | same labels | note |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['artifact']} | {fmt(r['ms/call'], '.2f')} "
              f"| {fmt(r['best ms'], '.2f')} "
              f"| {fmt(r['first call s'], '.2f')} "
              f"| {fmt(r['size MB'], '.2f')} "
              f"| {fmt(r['max abs diff'], '.1e')} "
              f"| {fmt(r['same labels'], '')} | {r['note']} |")


def main(argv=None):
    args = parse_args(argv)
    rows = run(args)
    print_table(args, rows)
    if args.json:
        from keras_albert.utils.atomic_files import atomic_file

        with atomic_file(args.json, encoding="utf-8") as f:
            json.dump({"args": vars(args), "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
