"""Raw strings in, predictions out: keras_albert vs KerasHub vs transformers
on real text, including compilation, in one run.

What is measured
----------------
One ALBERT text classifier (random weights, the same in all three
libraries), fed Python strings, for:

- `keras_albert`: `AlbertClassifier` at its defaults, and with each
  length optimisation switched off in turn -- `sort_by_length=False`
  (`predict`; `fit` then gets `bucket_by_length=False`), `length_buckets=None`
  (the preprocessor pads to the longest row of a batch again),
  `split_widths=False` (inference batches fill up across padded widths, as
  on a model that compiles every shape, instead of keeping widths apart;
  no public argument: the task's choice is replaced) -- plus
  `tokens_per_batch=N` (`predict` batches by a token budget instead of a row
  count). A variant whose option the running keras_albert does not have
  (checked with `inspect.signature`) is listed as "not available in this
  version" instead of run.
- `keras_hub`: `keras_hub.models.AlbertTextClassifier` at its defaults (its
  preprocessor pads every batch to `sequence_length=512`).
- `transformers`: `AlbertForSequenceClassification` (PyTorch eager,
  `torch.inference_mode()`), its tokenizer (`AutoTokenizer`, the fast one,
  as `pipeline` loads it) called per batch of inputs in input order with
  `padding="longest"` and `truncation=True, max_length=512` -- what
  `pipeline("text-classification")` does.

Same weights: the prepare step builds KerasHub's classifier (seeded random
initialisation) with a SentencePiece model trained here on the corpus below,
saves it as a KerasHub preset, loads that preset into keras_albert with the
library's own KerasHub reader (`AlbertClassifier.from_preset`), saves it as a
keras_albert preset and as a Hugging Face folder (`save_to_preset(...,
format="hf")`). Every library then loads its own format. The prepare step
checks the conversion (logits of the same token ids, keras_albert vs
KerasHub), and the report gives the largest difference of keras_albert's and
transformers' logits on the first 32 texts (same tokenizer settings, so
they should agree to ~1e-5; KerasHub's `AlbertTokenizer` does not lowercase,
so its token ids, not its weights, differ).

Inputs
------
Built from the Python standard library's documentation, with the same
harvester as `keras-albert quickstart` (`keras_albert.datasets.
load_python_docs`):

1. real text: passages of consecutive documentation sentences of one module,
   the number of sentences per passage drawn (seed 0) from a log-normal
   distribution (median 6, sigma 0.8, 1 to 40 sentences), shuffled. That
   gives a long-tailed length mix like user text (reviews, tickets): most
   passages fill a small part of 512 tokens and a few are truncated. The
   label of a passage (for `fit`) is its package.
2. short text: single documentation sentences under 64 tokens (GLUE-like).

The token-length histogram, mean, median, p90 and max of both sets (our
tokenizer, `[CLS]`/`[SEP]` included, before truncation) are printed.

Workloads (in one fresh subprocess per library and variant, so peak memory
and compile caches are per library; a fresh model instance per workload
inside it, so compiled programs of one workload do not serve another)
-------------------------------------------------------------------------
- `first call`: the first `predict` on 32 real texts of a freshly loaded
  model (tracing + compiling + running), then a second call on the same
  texts (`warm texts/s`).
- `predict real`, `predict short`: `predict(texts, batch_size=32)` over the
  whole set twice: the first pass includes every trace and compilation
  (`1st`), the second is warm.
- `fit real`: `fit(texts, labels, batch_size=32, epochs=2)` (batch size
  `--fit-batch-size`, default `--batch-size`) on labelled
  passages (not the ones predicted on). Keras models are compiled the same
  way (`AdamW(2e-5)`, sparse cross-entropy on logits, accuracy; jit setting
  at Keras' default); epoch 1 (with compilation) is `1st`, epoch 2 is warm.
  transformers: a plain PyTorch training loop (`model.train()`,
  `torch.optim.AdamW(lr=2e-5)`, batches of 32 in a new random order each
  epoch, the tokenizer per batch with `padding="longest"`, `loss.backward()`,
  `optimizer.step()`); that is what a transformers user writes, not
  `Trainer`.

Times are wall-clock around the whole call: tokenization, batching, the
model, and gathering the outputs.

Columns
-------
- `texts/s`: texts / seconds of the pass (or epoch, or call).
- `shapes`: the number of distinct padded input shapes `(rows, width)` fed
  to the model in that workload. Keras models: `benchmarks/
  shape_recorder.py` wraps `keras.src.trainers.data_adapters.
  get_data_adapter` for the benchmark so that every batch of a `tf.data`
  dataset passes a `tf.py_function` that records the shape and the number
  of real tokens of its `padding_mask` (it changes nothing else); Python
  generators and arrays are recorded as they are drawn / sliced.
  transformers: the tokenizer's `attention_mask` per batch.
  Each distinct shape is one compiled program on JAX (and on TensorFlow with
  XLA); TensorFlow's `tf.function(reduce_retracing=True)` (Keras' default on
  CPU) traces the first shapes and then one shape-generic graph; PyTorch
  eager compiles nothing but still re-plans kernels for new shapes.
- `traces`: how often Keras ran the Python body of `predict_step` /
  `train_step` (wrapped on the instance) -- on TensorFlow and JAX that is the
  number of traces (each followed by a graph / XLA compilation); on PyTorch
  eager, where the body runs per batch, `-`.
- `computed/useful`: token positions computed (rows x padded width, summed
  over batches) / real tokens (the padding mask's ones). 1.00 means no
  padding was computed.
- `peak RSS MB`: the worker process' high-water mark (`ru_maxrss`) after the
  workload; workloads run in the order of the table, so it includes the
  earlier ones of the same library (KerasHub and keras_albert load
  TensorFlow for their input pipelines on every backend).
- `vs KerasHub` / `vs transformers`: texts/s divided by KerasHub's /
  transformers' on the same workload (default variant); above 1 is faster.
  For `first call` the ratio of texts/s is the inverse ratio of the
  call's time.

Below the table the issue's targets are checked from these numbers:
predict on real text >= 3x KerasHub and >= 1.5x transformers including
compilation, fit >= 2x KerasHub, first call <= 0.5x KerasHub's time (a
target stated for `--config large`).

Usage
-----
    python benchmarks/real_text.py --config base               # ALBERT-base
    python benchmarks/real_text.py --config large --skip-fit   # first call
    python benchmarks/real_text.py --backend jax --texts 256 --json out.json
    python benchmarks/real_text.py --quick                     # smoke run

Threads are left at each framework's default; `load1` (the 1-minute load
average when each worker started) is printed, since on a shared machine it
makes numbers pessimistic and noisy.
"""

import argparse
import contextlib
import gc
import inspect
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time

from bench_common import add_common_options
from bench_common import markdown_table
from bench_common import parse_marked
from bench_common import run_subprocess
from shape_recorder import ShapeRecorder
from shape_recorder import count_steps
from shape_recorder import install_recorder

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARKER = "@@REAL_TEXT_RESULT@@ "
LIBRARIES = ("keras_albert", "keras_hub", "transformers")
BACKENDS = ("tensorflow", "jax", "torch")
FIRST_CALL_TEXTS = 32
FIT_EPOCHS = 2
LEARNING_RATE = 2e-5
SEQUENCE_LENGTH = 512
SHORT_MAX_TOKENS = 64
LENGTH_BUCKETS = (16, 32, 64, 128, 256, 512)
WORKLOADS = ("first call", "predict real", "predict short", "fit real")

# Encoder sizes (KerasHub `AlbertBackbone` arguments). Base and large are
# the ALBERT v2 architectures; `quick` is a tiny model for smoke runs.
CONFIGS = {
    "base": dict(num_layers=12, num_heads=12, embedding_dim=128,
                 hidden_dim=768, intermediate_dim=3072),
    "large": dict(num_layers=24, num_heads=16, embedding_dim=128,
                  hidden_dim=1024, intermediate_dim=4096),
    "quick": dict(num_layers=2, num_heads=2, embedding_dim=16,
                  hidden_dim=32, intermediate_dim=64),
}
QUICK_PACKAGES = ("json", "email", "logging")
QUICK_SIZES = dict(texts=48, short_texts=32, fit_texts=32,
                   vocabulary_size=1000)

# Passage lengths in sentences: log-normal, median 6, clipped to 1..40.
PASSAGE_MEDIAN_SENTENCES = 6
PASSAGE_SIGMA = 0.8
PASSAGE_MAX_SENTENCES = 40


# --------------------------------------------------------------------------
# keras_albert variants and the API they need.
# --------------------------------------------------------------------------


def variant_specs(tokens_per_batch):
    """`[(name, spec)]` of the keras_albert variants; `spec["needs"]` are
    capabilities (see `_capabilities`) the variant cannot run without."""
    return [
        ("default", dict(needs=(), predict={}, fit={}, preprocessor={})),
        ("sort_by_length=False", dict(
            needs=("predict.sort_by_length",),
            predict={"sort_by_length": False},
            fit={"bucket_by_length": False},
            fit_needs=("fit.bucket_by_length",),
            preprocessor={})),
        ("length_buckets=None", dict(
            needs=("preprocessor.length_buckets",),
            predict={}, fit={}, preprocessor={"length_buckets": None})),
        # No public argument: batches filled across padded widths (what
        # a model that compiles every shape does) instead of kept apart.
        ("split_widths=False", dict(
            needs=("batching.split_widths",),
            predict={}, fit={}, preprocessor={},
            batching={"split_widths": False})),
        (f"tokens_per_batch={tokens_per_batch}", dict(
            needs=("predict.tokens_per_batch",),
            predict={"tokens_per_batch": tokens_per_batch},
            fit=None, preprocessor={})),
    ]


def expected_workloads(variant, spec, quick, skip_fit, capabilities,
                       wanted=WORKLOADS):
    """The workloads a keras_albert variant (or, with `spec["fit"] == {}`,
    any library) runs, of those `wanted`."""
    workloads = [w for w in WORKLOADS if w in wanted]
    if quick and variant != "default":
        # Smoke runs check each variant's plumbing where it matters.
        workloads = [w for w in workloads if w == "predict real"]
    if (skip_fit or spec.get("fit") is None
            or any(not capabilities.get(need)
                   for need in spec.get("fit_needs", ()))):
        workloads = [w for w in workloads if w != "fit real"]
    return tuple(workloads)


def _capabilities():
    """Which of the length-aware options the importable keras_albert has,
    read from its signatures (named parameters only: `**kwargs` does not
    count)."""
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert.tasks.albert_task import AlbertTask

    def named(function):
        return {
            name for name, p in inspect.signature(function).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }

    predict = named(AlbertClassifier.predict)
    fit = named(AlbertClassifier.fit)
    preprocessor = named(AlbertPreprocessor.__init__)
    return {
        "predict.sort_by_length": "sort_by_length" in predict,
        "predict.tokens_per_batch": "tokens_per_batch" in predict,
        "fit.bucket_by_length": "bucket_by_length" in fit,
        "preprocessor.length_buckets": "length_buckets" in preprocessor,
        "batching.split_widths": hasattr(AlbertTask, "_split_widths"),
    }


# --------------------------------------------------------------------------
# Small shared helpers.
# --------------------------------------------------------------------------


def _emit(payload):
    print(RESULT_MARKER + json.dumps(payload), flush=True)


def _peak_rss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def length_stats(lengths):
    """Mean, median, p90, max and a histogram (`LENGTH_BUCKETS` edges) of
    token lengths."""
    ordered = sorted(lengths)
    if not ordered:
        return dict(count=0)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    histogram = {}
    low = 1
    for high in LENGTH_BUCKETS:
        histogram[f"{low}-{high}"] = sum(low <= n <= high for n in ordered)
        low = high + 1
    histogram[f">{LENGTH_BUCKETS[-1]}"] = sum(
        n > LENGTH_BUCKETS[-1] for n in ordered
    )
    return dict(
        count=len(ordered), mean=statistics.fmean(ordered),
        median=statistics.median(ordered), p90=p90, max=ordered[-1],
        histogram=histogram,
    )


# --------------------------------------------------------------------------
# Prepare: corpus, tokenizer, the three presets with the same weights.
# --------------------------------------------------------------------------


def _passages(documents, seed):
    """`(text, package)` passages of consecutive sentences of a module."""
    rng = random.Random(seed)
    out = []
    for package, sentences in documents:
        i = 0
        while i < len(sentences):
            count = int(round(math.exp(rng.gauss(
                math.log(PASSAGE_MEDIAN_SENTENCES), PASSAGE_SIGMA))))
            count = min(max(count, 1), PASSAGE_MAX_SENTENCES)
            out.append((" ".join(sentences[i:i + count]), package))
            i += count
    rng.shuffle(out)
    return out


def _token_lengths(tokenizer, texts):
    lengths = []
    for start in range(0, len(texts), 256):
        ids = tokenizer(texts[start:start + 256])
        if hasattr(ids, "row_lengths"):  # a tf.RaggedTensor
            ids = ids.to_list()
        # + [CLS] and [SEP].
        lengths.extend(len(row) + 2 for row in ids)
    return lengths


def run_prepare(args):
    """Writes the texts, the SentencePiece model and the three presets
    into `args.workdir`; emits their paths, the length statistics and the
    capabilities of keras_albert."""
    import keras
    import keras_hub
    import numpy as np

    import keras_albert
    from keras_albert.datasets import load_python_docs
    from keras_albert.datasets.python_docs import DEFAULT_PACKAGES

    started = time.perf_counter()
    packages = QUICK_PACKAGES if args.quick else DEFAULT_PACKAGES
    documents = load_python_docs(packages)
    corpus = [s for _, sentences in documents for s in sentences]
    packages = sorted({p for p, _ in documents})

    spm_path = os.path.join(args.workdir, "spiece.model")
    keras_albert.train_sentencepiece(
        corpus, spm_path, vocabulary_size=args.vocabulary_size,
    )
    tokenizer = keras_albert.AlbertTokenizer(proto=spm_path)

    passages = _passages(documents, args.seed)
    needed = args.texts + args.fit_texts
    if len(passages) < needed:
        raise SystemExit(
            f"The corpus has {len(passages)} passages; --texts + "
            f"--fit-texts ask for {needed}."
        )
    real = passages[:args.texts]
    fit = passages[args.texts:needed]
    rng = random.Random(args.seed + 1)
    candidates = list(corpus)
    rng.shuffle(candidates)
    candidates = candidates[:max(4 * args.short_texts, 256)]
    short = [
        text for text, n in zip(candidates,
                                _token_lengths(tokenizer, candidates))
        if n < SHORT_MAX_TOKENS
    ][:args.short_texts]
    if len(short) < args.short_texts:
        raise SystemExit(
            f"Only {len(short)} sentences under {SHORT_MAX_TOKENS} tokens "
            f"were found; lower --short-texts."
        )
    real_texts = [t for t, _ in real]

    # One set of random weights: KerasHub's classifier, seeded.
    keras.utils.set_random_seed(args.seed)
    config = CONFIGS["quick" if args.quick else args.config]
    hub_tokenizer = keras_hub.models.AlbertTokenizer(proto=spm_path)
    hub = keras_hub.models.AlbertTextClassifier(
        backbone=keras_hub.models.AlbertBackbone(
            vocabulary_size=hub_tokenizer.vocabulary_size(),
            max_sequence_length=SEQUENCE_LENGTH, **config,
        ),
        num_classes=len(packages),
        preprocessor=keras_hub.models.AlbertTextClassifierPreprocessor(
            hub_tokenizer, sequence_length=SEQUENCE_LENGTH,
        ),
    )
    hub_dir = os.path.join(args.workdir, "keras_hub")
    ours_dir = os.path.join(args.workdir, "keras_albert")
    hf_dir = os.path.join(args.workdir, "transformers")
    hub.save_to_preset(hub_dir)
    # keras_albert's own KerasHub reader does the conversion.
    ours = keras_albert.AlbertClassifier.from_preset(hub_dir)
    ours.save_to_preset(ours_dir)
    ours.save_to_preset(hf_dir, format="hf")

    # The conversion, checked on the same token ids.
    packed = ours.preprocessor(real_texts[:4])
    packed = {k: keras.ops.convert_to_numpy(v) for k, v in packed.items()}
    ours_logits = keras.ops.convert_to_numpy(ours(packed, training=False))
    hub_logits = keras.ops.convert_to_numpy(hub(packed, training=False))

    prep = dict(
        config_name="quick" if args.quick else args.config,
        config=dict(config, vocabulary_size=hub_tokenizer.vocabulary_size(),
                    max_sequence_length=SEQUENCE_LENGTH),
        num_classes=len(packages),
        sequence_length=int(ours.preprocessor.sequence_length),
        real=real_texts,
        real_stats=length_stats(_token_lengths(tokenizer, real_texts)),
        short=short,
        short_stats=length_stats(_token_lengths(tokenizer, short)),
        fit=[t for t, _ in fit],
        fit_labels=[packages.index(p) for _, p in fit],
        hub_dir=hub_dir, ours_dir=ours_dir, hf_dir=hf_dir,
        conversion_max_abs_diff=float(np.max(np.abs(ours_logits -
                                                    hub_logits))),
        capabilities=_capabilities(),
        keras_albert_version=keras_albert.__version__,
        keras_version=keras.__version__,
        keras_hub_version=keras_hub.__version__,
        prepare_s=time.perf_counter() - started,
    )
    path = os.path.join(args.workdir, "prep.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(prep, f)
    _emit(dict(prep=path))


# --------------------------------------------------------------------------
# Workers: one library (and variant) each.
# --------------------------------------------------------------------------


class _Worker:
    """Shared bookkeeping of a worker: one result line per workload."""

    def __init__(self, library, variant, backend):
        self.library = library
        self.variant = variant
        self.backend = backend
        self.common = dict(load_avg=os.getloadavg()[0])

    def emit(self, workload, status="ok", **fields):
        payload = dict(
            library=self.library, variant=self.variant,
            backend=self.backend, workload=workload, status=status,
            peak_rss_mb=_peak_rss_mb(),
        )
        payload.update(self.common)
        payload.update(fields)
        _emit(payload)

    def error(self, workload, exc):
        lines = f"{type(exc).__name__}: {exc}".strip().splitlines()
        self.emit(workload, status="error",
                  error=(lines[0] if lines else type(exc).__name__)[:400])


def _keras_fit_epochs(model, texts, labels, batch_size, fit_kwargs):
    import keras

    epoch_times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.started)

    model.fit(texts, labels, batch_size=batch_size, epochs=FIT_EPOCHS,
              verbose=0, callbacks=[EpochTimer()], **fit_kwargs)
    return epoch_times


def run_keras_worker(args, prep):
    """keras_albert (one or more variants, in order) or KerasHub."""
    import keras

    recorder = ShapeRecorder()
    install_recorder(recorder)
    specs = dict(variant_specs(args.tokens_per_batch))
    variants = [v for v in args.variant.split(",") if v]
    for variant in variants:
        if args.worker == "keras_albert" and variant not in specs:
            raise SystemExit(f"Unknown variant {variant!r}.")
    for variant in variants:
        spec = specs[variant]
        workloads = expected_workloads(variant, spec, args.quick,
                                       args.skip_fit, prep["capabilities"],
                                       args.workloads)
        with _batching_defaults(spec.get("batching")):
            _run_keras_variant(args, prep, variant, spec, workloads,
                               recorder, keras)


@contextlib.contextmanager
def _batching_defaults(options):
    """Inside the block, tasks batch with `options` (variants of choices
    that have no public argument): `split_widths` replaces the task's own
    choice (`AlbertTask._split_widths`)."""
    if not options:
        yield
        return
    from keras_albert.tasks.albert_task import AlbertTask

    original = AlbertTask._split_widths
    AlbertTask._split_widths = lambda self: options["split_widths"]
    try:
        yield
    finally:
        AlbertTask._split_widths = original


def _run_keras_variant(args, prep, variant, spec, workloads, recorder,
                       keras):
    import numpy as np

    library = args.worker
    worker = _Worker(library, variant, keras.backend.backend())
    worker.common["keras_version"] = keras.__version__
    counts = {}

    def load():
        if library == "keras_hub":
            import keras_hub

            return keras_hub.models.AlbertTextClassifier.from_preset(
                prep["hub_dir"]
            )
        from keras_albert import AlbertClassifier
        from keras_albert import AlbertPreprocessor

        model = AlbertClassifier.from_preset(prep["ours_dir"])
        if spec["preprocessor"]:
            old = model.preprocessor
            model.preprocessor = AlbertPreprocessor(
                old.tokenizer, sequence_length=old.sequence_length,
                truncate=old.truncate,
                pad_to_multiple_of=old.pad_to_multiple_of,
                **spec["preprocessor"],
            )
        return model

    def fresh():
        gc.collect()
        keras.backend.clear_session()
        counts.clear()
        recorder.reset()
        started = time.perf_counter()
        model = load()
        count_steps(model, counts)
        return model, time.perf_counter() - started

    def stats(kind, passes=1):
        summary = recorder.summary(passes)
        summary["traces"] = (counts.get(kind, 0)
                             if keras.backend.backend() != "torch" else None)
        return summary

    predict_kwargs = dict(spec["predict"])
    batch = args.batch_size
    # 1. The first call of a freshly loaded model.
    if "first call" in workloads:
        try:
            model, build_s = fresh()
            worker.common["jit_compile"] = str(getattr(model, "jit_compile",
                                                       None))
            texts = prep["real"][:FIRST_CALL_TEXTS]
            started = time.perf_counter()
            logits = model.predict(texts, batch_size=batch, verbose=0,
                                   **predict_kwargs)
            first = time.perf_counter() - started
            summary = stats("predict_step")
            started = time.perf_counter()
            model.predict(texts, batch_size=batch, verbose=0,
                          **predict_kwargs)
            warm = time.perf_counter() - started
            worker.emit("first call", texts=len(texts), first_s=first,
                        warm_s=warm, build_s=build_s,
                        logits=np.asarray(logits).tolist(), **summary)
        except Exception as exc:  # report, go on with the next workload
            worker.error("first call", exc)

    # 2. Whole sets, twice.
    for workload, texts in (("predict real", prep["real"]),
                            ("predict short", prep["short"])):
        if workload not in workloads:
            continue
        try:
            model, build_s = fresh()
            times = []
            for _ in range(2):
                started = time.perf_counter()
                out = model.predict(texts, batch_size=batch, verbose=0,
                                    **predict_kwargs)
                times.append(time.perf_counter() - started)
                if len(out) != len(texts):
                    raise RuntimeError(
                        f"{len(out)} predictions for {len(texts)} texts"
                    )
            worker.emit(workload, texts=len(texts), first_s=times[0],
                        warm_s=times[1], build_s=build_s,
                        **stats("predict_step", passes=2))
        except Exception as exc:
            worker.error(workload, exc)

    # 3. Fit, two epochs.
    if "fit real" not in workloads:
        return
    try:
        model, build_s = fresh()
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=LEARNING_RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        labels = np.asarray(prep["fit_labels"], "int32")
        epochs = _keras_fit_epochs(model, prep["fit"], labels,
                                   args.fit_batch_size, dict(spec["fit"]))
        worker.emit("fit real", texts=len(prep["fit"]), first_s=epochs[0],
                    warm_s=epochs[-1], build_s=build_s,
                    **stats("train_step", passes=FIT_EPOCHS))
    except Exception as exc:
        worker.error("fit real", exc)


class _Skipped(Exception):
    """A workload not asked for (`--workloads`)."""


def run_transformers_worker(args, prep):
    import numpy as np
    import torch
    import transformers

    worker = _Worker("transformers", "default", "torch")
    worker.common.update(transformers_version=transformers.__version__,
                         torch_threads=torch.get_num_threads())
    recorder = ShapeRecorder()
    torch.manual_seed(args.seed)

    def fresh():
        gc.collect()
        recorder.reset()
        started = time.perf_counter()
        tokenizer = transformers.AutoTokenizer.from_pretrained(prep["hf_dir"])
        model = transformers.AlbertForSequenceClassification.from_pretrained(
            prep["hf_dir"]
        )
        return tokenizer, model, time.perf_counter() - started

    def encode(tokenizer, texts):
        encoded = tokenizer(texts, padding="longest", truncation=True,
                            max_length=prep["sequence_length"],
                            return_tensors="pt")
        mask = encoded["attention_mask"]
        recorder.record(mask.shape[0], mask.shape[1], int(mask.sum()))
        return encoded

    def predict(tokenizer, model, texts):
        model.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), args.batch_size):
                encoded = encode(tokenizer,
                                 texts[start:start + args.batch_size])
                out.append(model(**encoded).logits.numpy())
        return np.concatenate(out)

    workloads = expected_workloads("default", dict(fit={}), args.quick,
                                   args.skip_fit, prep["capabilities"],
                                   args.workloads)
    try:
        if "first call" not in workloads:
            raise _Skipped
        tokenizer, model, build_s = fresh()
        texts = prep["real"][:FIRST_CALL_TEXTS]
        started = time.perf_counter()
        logits = predict(tokenizer, model, texts)
        first = time.perf_counter() - started
        summary = recorder.summary()
        started = time.perf_counter()
        predict(tokenizer, model, texts)
        warm = time.perf_counter() - started
        worker.emit("first call", texts=len(texts), first_s=first,
                    warm_s=warm, build_s=build_s, logits=logits.tolist(),
                    traces=None, **summary)
    except _Skipped:
        pass
    except Exception as exc:
        worker.error("first call", exc)

    for workload, texts in (("predict real", prep["real"]),
                            ("predict short", prep["short"])):
        if workload not in workloads:
            continue
        try:
            tokenizer, model, build_s = fresh()
            times = []
            for _ in range(2):
                started = time.perf_counter()
                predict(tokenizer, model, texts)
                times.append(time.perf_counter() - started)
            summary = recorder.summary(passes=2)
            worker.emit(workload, texts=len(texts), first_s=times[0],
                        warm_s=times[1], build_s=build_s, traces=None,
                        **summary)
        except Exception as exc:
            worker.error(workload, exc)

    if "fit real" not in workloads:
        return
    try:
        tokenizer, model, build_s = fresh()
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
        texts, labels = prep["fit"], prep["fit_labels"]
        order_rng = np.random.default_rng(args.seed)
        epoch_times = []
        for _ in range(FIT_EPOCHS):
            started = time.perf_counter()
            order = order_rng.permutation(len(texts))
            for start in range(0, len(texts), args.fit_batch_size):
                rows = order[start:start + args.fit_batch_size]
                encoded = encode(tokenizer, [texts[i] for i in rows])
                target = torch.tensor([labels[i] for i in rows])
                loss = model(**encoded, labels=target).loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            epoch_times.append(time.perf_counter() - started)
        summary = recorder.summary(passes=FIT_EPOCHS)
        worker.emit("fit real", texts=len(texts), first_s=epoch_times[0],
                    warm_s=epoch_times[-1], build_s=build_s, traces=None,
                    **summary)
    except Exception as exc:
        worker.error("fit real", exc)


def run_worker(args):
    if args.worker == "prepare":
        run_prepare(args)
        return
    with open(args.prep, encoding="utf-8") as f:
        prep = json.load(f)
    if args.worker == "transformers":
        run_transformers_worker(args, prep)
    else:
        run_keras_worker(args, prep)


# --------------------------------------------------------------------------
# Parent: plan, run the workers one at a time, print the report.
# --------------------------------------------------------------------------


def _run_worker_process(args, worker, backend, variant="default",
                        prep_path=None):
    argv = [
        sys.executable, os.path.abspath(__file__), "--worker", worker,
        "--variant", variant, "--workdir", args.workdir,
        "--config", args.config, "--batch-size", str(args.batch_size),
        "--fit-batch-size", str(args.fit_batch_size),
        "--texts", str(args.texts), "--short-texts", str(args.short_texts),
        "--fit-texts", str(args.fit_texts),
        "--tokens-per-batch", str(args.tokens_per_batch),
        "--vocabulary-size", str(args.vocabulary_size),
        "--seed", str(args.seed),
        "--workloads", ",".join(args.workloads),
    ]
    if prep_path:
        argv += ["--prep", prep_path]
    if args.quick:
        argv.append("--quick")
    if args.skip_fit:
        argv.append("--skip-fit")
    started = time.perf_counter()
    stdout, stderr, code = run_subprocess(argv, backend, args.timeout)
    wall = time.perf_counter() - started
    results = parse_marked(stdout, RESULT_MARKER)
    if args.verbose:
        print(f"[{worker}/{variant}] {wall:.0f} s, exit {code}",
              file=sys.stderr, flush=True)
        if code:
            print("\n".join(stderr.strip().splitlines()[-30:]),
                  file=sys.stderr)
    why = None
    if code is None:
        why = f"timeout: worker killed after {args.timeout:.0f} s"
    elif code != 0:
        why = f"worker exited {code}: " + " | ".join(
            stderr.strip().splitlines()[-3:])[-400:]
    for r in results:
        r["worker_wall_s"] = wall
    return results, why


def _fill_missing(results, library, variant, backend, why, workloads):
    """Error rows for workloads a dead worker did not report."""
    done = {r["workload"] for r in results if r["variant"] == variant}
    for workload in workloads:
        if workload in done:
            continue
        results.append(dict(library=library, variant=variant,
                            backend=backend, workload=workload,
                            status="error", error=why or "not reported"))


def _add_ratios(results):
    ok = [r for r in results if r.get("status") == "ok"]
    for r in ok:
        r["first_texts_per_s"] = r["texts"] / r["first_s"]
        r["warm_texts_per_s"] = r["texts"] / r["warm_s"]
    reference = {}
    for r in ok:
        if r["variant"] == "default" and r["library"] in (
                "keras_hub", "transformers"):
            reference[(r["library"], r["workload"])] = r
    for r in ok:
        for library, key in (("keras_hub", "vs_keras_hub"),
                             ("transformers", "vs_transformers")):
            ref = reference.get((library, r["workload"]))
            if ref is None:
                continue
            r[key + "_first"] = r["first_texts_per_s"] / \
                ref["first_texts_per_s"]
            r[key + "_warm"] = r["warm_texts_per_s"] / ref["warm_texts_per_s"]


TABLE_COLUMNS = (
    "library", "variant", "workload", "1st s", "1st texts/s",
    "warm texts/s", "shapes", "traces", "computed/useful", "peak RSS MB",
    "vs KerasHub 1st", "vs KerasHub warm", "vs transformers 1st",
    "vs transformers warm", "load1",
)


def _number(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(results):
    """A Markdown pipe table, one row per (library, variant, workload);
    failed or unavailable rows keep their place with the reason."""
    rows = []
    for r in results:
        head = [r["library"], r["variant"], r["workload"]]
        if r.get("status") == "unavailable":
            rows.append(head + ["not available in this version"]
                        + [""] * (len(TABLE_COLUMNS) - 4))
            continue
        if r.get("status") != "ok":
            rows.append(head + ["FAILED"] + ["-"] * (len(TABLE_COLUMNS) - 4))
            continue
        ratio = "-"
        if r.get("computed_tokens") and r.get("useful_tokens"):
            ratio = f"{r['computed_tokens'] / r['useful_tokens']:.2f}"
        rows.append(head + [
            _number(r["first_s"], 2),
            _number(r["first_texts_per_s"]),
            _number(r["warm_texts_per_s"]),
            "-" if r.get("shapes") is None else str(r["shapes"]),
            "-" if r.get("traces") is None else str(r["traces"]),
            ratio,
            _number(r.get("peak_rss_mb"), 0),
            _number(r.get("vs_keras_hub_first"), 2),
            _number(r.get("vs_keras_hub_warm"), 2),
            _number(r.get("vs_transformers_first"), 2),
            _number(r.get("vs_transformers_warm"), 2),
            _number(r.get("load_avg")),
        ])
    return markdown_table(TABLE_COLUMNS, rows)


def format_lengths(name, stats):
    if not stats.get("count"):
        return f"{name}: no texts"
    histogram = ", ".join(f"{k}: {v}" for k, v in stats["histogram"].items())
    return (
        f"{name}: {stats['count']} texts, tokens mean {stats['mean']:.1f}, "
        f"median {stats['median']:.0f}, p90 {stats['p90']}, max "
        f"{stats['max']}; histogram {histogram}"
    )


def target_lines(results):
    """The issue's targets, checked from the measured rows of the default
    keras_albert variant."""
    ours = {r["workload"]: r for r in results
            if r.get("status") == "ok" and r["library"] == "keras_albert"
            and r["variant"] == "default"}
    checks = (
        ("predict real incl. compile vs KerasHub", "predict real",
         "vs_keras_hub_first", 3.0),
        ("predict real incl. compile vs transformers", "predict real",
         "vs_transformers_first", 1.5),
        ("fit real, epoch 1 (incl. compile) vs KerasHub", "fit real",
         "vs_keras_hub_first", 2.0),
        ("fit real, epoch 2 vs KerasHub", "fit real",
         "vs_keras_hub_warm", 2.0),
    )
    lines = []
    for text, workload, key, target in checks:
        value = ours.get(workload, {}).get(key)
        if value is None:
            lines.append(f"- {text}: not measured")
            continue
        verdict = "met" if value >= target else "NOT met"
        lines.append(f"- {text}: {value:.2f}x (target >= {target:g}x): "
                     f"{verdict}")
    first = ours.get("first call", {}).get("vs_keras_hub_first")
    if first is None:
        lines.append("- first call time vs KerasHub's: not measured")
    else:
        time_ratio = 1.0 / first
        verdict = "met" if time_ratio <= 0.5 else "NOT met"
        lines.append(
            f"- first call (32 real texts) time vs KerasHub's: "
            f"{time_ratio:.2f}x (target <= 0.5x, stated for --config large):"
            f" {verdict}"
        )
    return lines


def _max_logit_diff(results, library):
    by = {r["library"]: r for r in results
          if r.get("status") == "ok" and r["workload"] == "first call"
          and r["variant"] == "default" and "logits" in r}
    if "keras_albert" not in by or library not in by:
        return None
    a, b = by["keras_albert"]["logits"], by[library]["logits"]
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def _selected_variants(args):
    """`variant_specs` filtered by `--variants` (full names or the part
    before `=`)."""
    specs = variant_specs(args.tokens_per_batch)
    if args.variants == "all":
        return specs
    wanted = {v.strip() for v in args.variants.split(",") if v.strip()}
    known = {n for n, _ in specs} | {n.split("=")[0] for n, _ in specs}
    unknown = wanted - known
    if unknown:
        raise SystemExit(
            f"Unknown variant(s) {', '.join(sorted(unknown))}; use "
            "default, sort_by_length, length_buckets, split_widths, "
            "tokens_per_batch."
        )
    return [(n, s) for n, s in specs
            if n in wanted or n.split("=")[0] in wanted]


def run_parent(args):
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    for library in only:
        if library not in LIBRARIES:
            raise SystemExit(f"Unknown library {library!r}; use "
                             f"{', '.join(LIBRARIES)}.")
    _selected_variants(args)  # unknown names fail before any work
    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix="real_text_bench_")
    else:
        os.makedirs(args.workdir, exist_ok=True)
    started = time.perf_counter()
    try:
        # The prepare step writes files only; TensorFlow reads its
        # tokenizer's ragged outputs most simply.
        prepared, why = _run_worker_process(args, "prepare", "tensorflow")
        if not prepared:
            raise SystemExit(f"Preparing the inputs failed: {why}")
        with open(prepared[-1]["prep"], encoding="utf-8") as f:
            prep = json.load(f)
        prep_path = prepared[-1]["prep"]
        results = []
        # (library, backend, [(variant, expected workloads)])
        jobs = []
        if "keras_albert" in only:
            runnable = []
            for name, spec in _selected_variants(args):
                if all(prep["capabilities"].get(n) for n in spec["needs"]):
                    runnable.append((name, expected_workloads(
                        name, spec, args.quick, args.skip_fit,
                        prep["capabilities"], args.workloads)))
                else:
                    results.append(dict(
                        library="keras_albert", variant=name,
                        backend=args.backend, workload="-",
                        status="unavailable"))
            if args.quick:
                # One process for all variants: smoke runs stay short.
                jobs.append(("keras_albert", args.backend, runnable))
            else:
                jobs += [("keras_albert", args.backend, [item])
                         for item in runnable]
        plain = expected_workloads("default", dict(fit={}), args.quick,
                                   args.skip_fit, prep["capabilities"],
                                   args.workloads)
        if "keras_hub" in only:
            jobs.append(("keras_hub", args.backend, [("default", plain)]))
        if "transformers" in only:
            jobs.append(("transformers", "torch", [("default", plain)]))
        for library, backend, variants in jobs:
            names = ",".join(name for name, _ in variants)
            if args.verbose:
                print(f"running {library} ({names}) on {backend}",
                      file=sys.stderr, flush=True)
            got, why = _run_worker_process(args, library, backend, names,
                                           prep_path)
            for name, workloads in variants:
                _fill_missing(got, library, name, backend, why, workloads)
            results.extend(got)
    finally:
        if own_workdir:
            shutil.rmtree(args.workdir, ignore_errors=True)
    # Grouped by library, then workload (the variants of a workload next
    # to each other, default first); unavailable variants last.
    variant_order = [name for name, _ in variant_specs(args.tokens_per_batch)]
    results.sort(key=lambda r: (
        LIBRARIES.index(r["library"]),
        WORKLOADS.index(r["workload"]) if r["workload"] in WORKLOADS
        else len(WORKLOADS),
        variant_order.index(r["variant"]) if r["variant"] in variant_order
        else 0,
    ))
    _add_ratios(results)
    total = time.perf_counter() - started

    config = prep["config"]
    print(
        f"Raw text in, predictions out -- config {prep['config_name']}: "
        f"{config['num_layers']} layers, hidden {config['hidden_dim']}, "
        f"E {config['embedding_dim']}, heads {config['num_heads']}, "
        f"intermediate {config['intermediate_dim']}, vocabulary "
        f"{config['vocabulary_size']}, {prep['num_classes']} classes, "
        f"sequence_length {prep['sequence_length']}"
    )
    print(
        f"Keras backend {args.backend} (transformers: PyTorch eager); batch "
        f"{args.batch_size}; fit {FIT_EPOCHS} epochs on {len(prep['fit'])} "
        f"texts in batches of {args.fit_batch_size}; os.cpu_count()={os.cpu_count()}; {platform.machine()} "
        f"Python {platform.python_version()}; keras {prep['keras_version']},"
        f" keras_hub {prep['keras_hub_version']}, keras_albert "
        f"{prep['keras_albert_version']}; total {total:.0f} s"
    )
    print(format_lengths("real text", prep["real_stats"]))
    print(format_lengths("short text", prep["short_stats"]))
    print()
    print(format_table(results))
    print()
    print(
        "1st: first pass over the set (all tracing/compilation included; "
        "for fit: epoch 1); warm: second pass (fit: epoch 2). shapes: "
        "distinct padded (rows, width) fed to the model; traces: Python "
        "runs of predict_step/train_step (TF/JAX traces); computed/useful: "
        "padded token positions / real tokens; peak RSS: the worker's "
        "high-water mark so far. vs ...: texts/s ratio to the default "
        "KerasHub / transformers row of the same workload."
    )
    print(f"same weights: keras_albert vs KerasHub logits on the same token "
          f"ids differ by at most {prep['conversion_max_abs_diff']:.1e}")
    diff = _max_logit_diff(results, "transformers")
    if diff is not None:
        print(f"keras_albert vs transformers logits on the first "
              f"{FIRST_CALL_TEXTS} texts (each its own tokenizer): max abs "
              f"diff {diff:.1e}")
    print("targets (keras_albert defaults):")
    for line in target_lines(results):
        print(line)
    loads = [r["load_avg"] for r in results if "load_avg" in r]
    if loads and max(loads) > (os.cpu_count() or 1):
        print(f"WARNING: load average reached {max(loads):.1f} on "
              f"{os.cpu_count()} CPUs: other processes competed for the "
              "cores, so these numbers are pessimistic and noisy.")
    for r in results:
        if r.get("status") == "error":
            print(f"FAILED {r['library']}/{r['variant']}/{r['workload']}: "
                  f"{r['error']}")
    if args.json:
        from keras_albert.utils.atomic_files import atomic_file

        report = dict(
            config=config, config_name=prep["config_name"],
            backend=args.backend, batch_size=args.batch_size,
            fit_batch_size=args.fit_batch_size,
            fit_epochs=FIT_EPOCHS, cpu_count=os.cpu_count(), total_s=total,
            real_stats=prep["real_stats"], short_stats=prep["short_stats"],
            capabilities=prep["capabilities"],
            conversion_max_abs_diff=prep["conversion_max_abs_diff"],
            keras_albert_vs_transformers_max_abs_diff=diff,
            versions=dict(keras=prep["keras_version"],
                          keras_hub=prep["keras_hub_version"],
                          keras_albert=prep["keras_albert_version"]),
            results=[{k: v for k, v in r.items() if k != "logits"}
                     for r in results],
        )
        with atomic_file(args.json, encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0 if all(r.get("status") != "error" for r in results) else 1


def _workload_list(text):
    names = tuple(w.strip() for w in text.split(",") if w.strip())
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {', '.join(unknown) or '(none)'}; choose "
            f"from {', '.join(WORKLOADS)}")
    return names


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", choices=("base", "large"), default="base",
                        help="encoder size (random weights)")
    parser.add_argument("--backend", choices=BACKENDS,
                        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
                        help="Keras backend of the keras_albert and KerasHub "
                             "workers (default $KERAS_BACKEND or tensorflow)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--fit-batch-size", type=int, default=None,
                        help="batch size of the fit workload (default: "
                             "--batch-size; ALBERT-base at 32 x 512 tokens "
                             "needs over 15 GB for training on CPU)")
    parser.add_argument("--texts", type=int, default=512,
                        help="real-text passages to predict on")
    parser.add_argument("--short-texts", type=int, default=512,
                        help="short sentences to predict on")
    parser.add_argument("--fit-texts", type=int, default=256,
                        help="labelled passages to fit on (2 epochs)")
    parser.add_argument("--tokens-per-batch", type=int, default=4096,
                        help="token budget of the tokens_per_batch variant")
    parser.add_argument("--vocabulary-size", type=int, default=30000,
                        help="SentencePiece pieces asked for (a small "
                             "corpus gives fewer)")
    parser.add_argument("--only", default=",".join(LIBRARIES),
                        help="comma list of keras_albert,keras_hub,"
                             "transformers")
    parser.add_argument("--variants", default="all",
                        help="keras_albert variants: all, or a comma list "
                             "of default,sort_by_length,length_buckets,"
                             "split_widths,tokens_per_batch")
    parser.add_argument("--skip-fit", action="store_true",
                        help="predict workloads only")
    parser.add_argument("--workloads", type=_workload_list,
                        default=WORKLOADS,
                        help="comma list of the workloads to run (default "
                             "all: " + ", ".join(WORKLOADS) + ")")
    parser.add_argument("--quick", action="store_true",
                        help="tiny model, few texts: a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir",
                        help="folder for the presets and texts (default: a "
                             "temporary one, removed at the end)")
    add_common_options(parser, timeout=3600)
    # Internal: how the parent starts a worker.
    parser.add_argument("--variant", default="default",
                        help=argparse.SUPPRESS)
    parser.add_argument("--prep", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK_SIZES.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    if args.fit_batch_size is None:
        args.fit_batch_size = args.batch_size
    for name in ("batch_size", "fit_batch_size", "texts", "short_texts",
                 "fit_texts", "tokens_per_batch"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1.")
    if args.worker:
        sys.path.insert(0, REPO_ROOT)
        run_worker(args)
        return 0
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
