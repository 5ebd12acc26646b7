"""Early exit (PABEE) against the full-depth classifier: accuracy, layers
used, latency at batch 1 and throughput at batch 32, in one run.

What is measured
----------------
A 12-layer ALBERT (hidden 128, 4 heads, embedding 64: the quickstart's
small width at ALBERT-base's depth, so that it trains on a CPU in minutes)
on the quickstart's real task: which standard-library package
(`asyncio`, `email`, `logging`, `xml`) a documentation sentence comes
from, tested on modules never seen in training
(`keras_albert.datasets.load_python_docs`, split by module as in
`keras-albert quickstart`). In one process:

1. a SentencePiece vocabulary and a short MLM + SOP pretraining that uses
   ALBERT's cross-layer sharing: the shared block is pretrained at 4 layers
   (`--stack-steps`, 1,200 steps of 32 x 64 tokens), where it learns on
   this small corpus, then run at 12 layers for `--pretrain-steps` (300)
   more (12 layers pretrained from scratch for as long learn nothing, and
   their classifier stays at the majority class);
2. fine-tuning an `AlbertClassifier` (the full-depth model);
3. two early-exit models: (a) `AlbertEarlyExitClassifier.from_classifier(
   classifier, exits_trainable_only=True)`: the fine-tuned classifier is
   the frozen last exit, and only the exits after layers 1-11 are trained
   (PABEE's depth-weighted loss), so patience 12 is the full-depth
   classifier; (b) PABEE as Zhou et al. train it: every weight fine-tuned
   from the pretrained backbone with the depth-weighted loss of all exits,
   on the classifier's schedule;
4. for the full-depth classifier and, for each early-exit model, every
   patience 1..12: held-out accuracy, mean layers used, the median
   latency of one sentence at a time (`predict_on_batch`, batch 1) and
   texts/s at batch 32. Every timed call is paired with a call of the
   full-depth classifier on the same input right before it, and each
   row's speed-up divides the two (the machine's speed drifts by more
   than the differences measured); the full-depth row shows the median
   of its paired runs.

Every input is padded to `--seq-len` (64) so that each model traces one
shape; the Keras models run as `predict_on_batch` (a compiled
`tf.function`, XLA where Keras chooses it). A batch stops only when its
last example exits, so batch 32 gains less than batch 1.

Usage
-----
    KERAS_BACKEND=tensorflow python benchmarks/early_exit.py
    python benchmarks/early_exit.py --json early_exit.json
    python benchmarks/early_exit.py --quick       # tiny smoke run (CI)

Runs on the TensorFlow Keras backend (sets `KERAS_BACKEND=tensorflow`
when unset). The machine's load average is printed with the table.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

FULL = dict(num_layers=12, hidden_dim=128, num_heads=4, embedding_dim=64,
            intermediate_dim=256, vocabulary_size=2000, stack_layers=4,
            stack_steps=1200, stack_learning_rate=1e-2, pretrain_steps=300,
            pretrain_learning_rate=2e-3,
            finetune_epochs=6, exit_epochs=4, labelled_examples=2000,
            latency_examples=200)
# No pretraining in the smoke run: tracing the pretrainer alone takes half
# a minute on 2 cores.
QUICK = dict(num_layers=3, hidden_dim=32, num_heads=2, embedding_dim=16,
             intermediate_dim=64, vocabulary_size=400, stack_layers=1,
             stack_steps=0, stack_learning_rate=1e-2, pretrain_steps=0,
             pretrain_learning_rate=2e-3,
             finetune_epochs=1, exit_epochs=1, labelled_examples=64,
             latency_examples=4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny model and data, for a smoke run")
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--stack-steps", type=int, default=None,
                        help="pretraining steps of the shared block at "
                             "stack_layers (4) depth")
    parser.add_argument("--pretrain-steps", type=int, default=None,
                        help="pretraining steps at full depth after that")
    parser.add_argument("--finetune-epochs", type=int, default=None)
    parser.add_argument("--exit-epochs", type=int, default=None)
    parser.add_argument("--latency-examples", type=int, default=None,
                        help="sentences timed one at a time per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("stack_steps", "pretrain_steps", "finetune_epochs",
                "exit_epochs", "latency_examples"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    return args, settings


def load_task(seed, labelled_examples):
    """`(corpus, train, test, labels)` of the quickstart's task."""
    from keras_albert.datasets import load_python_docs
    from keras_albert.quickstart import QUICKSTART_PACKAGES
    from keras_albert.quickstart import _split_documents

    documents = load_python_docs(QUICKSTART_PACKAGES)
    corpus = [s for _, sentences in documents for s in sentences]
    labels = list(QUICKSTART_PACKAGES)
    train, test = _split_documents(documents, labels, 0.2, seed)
    return corpus, documents, train[:labelled_examples], test, labels


def pretrain(documents, tokenizer, settings, seq_len, seed):
    """The pretrained 12-layer backbone and the last pretraining logs.

    Twelve post-LayerNorm layers trained from scratch for a few hundred
    steps on this small corpus learn nothing (MLM accuracy stays at 0.06,
    SOP at chance: measured at 1e-2 for 1,500 steps), and a classifier
    fine-tuned on them stays at the majority class. Cross-layer sharing
    gives a cheap way round: the shared block is first pretrained at
    `stack_layers` depth (where the quickstart's 4 layers learn), then
    the same weights run at full depth, pretrained `pretrain_steps` more.
    """
    import keras_albert

    dims = {k: settings[k] for k in ("hidden_dim", "num_heads",
                                     "embedding_dim", "intermediate_dim")}

    def backbone(num_layers):
        return keras_albert.AlbertBackbone(
            vocabulary_size=tokenizer.vocabulary_size(),
            max_sequence_length=seq_len, num_layers=num_layers, **dims)

    full = backbone(settings["num_layers"])
    logs = {}
    if settings["stack_steps"] > 0:
        shallow = backbone(settings["stack_layers"])
        logs["stacked"] = _pretrain_steps(
            shallow, documents, tokenizer, seq_len, seed,
            settings["stack_steps"], settings["stack_learning_rate"])
        # One shared block: the same weights at any depth.
        full.set_weights(shallow.get_weights())
    if settings["pretrain_steps"] > 0:
        logs["full"] = _pretrain_steps(
            full, documents, tokenizer, seq_len, seed,
            settings["pretrain_steps"], settings["pretrain_learning_rate"])
    return full, logs


def _pretrain_steps(backbone, documents, tokenizer, seq_len, seed, steps,
                    learning_rate):
    """MLM + SOP pretraining of `backbone` in place; the last logs."""
    import keras

    import keras_albert
    from keras_albert.optimizers.schedules import WarmupPolynomialDecay
    from keras_albert.pretraining.pretraining_dataset import (
        make_pretraining_dataset,
    )

    dataset = make_pretraining_dataset(
        documents, tokenizer, sequence_length=seq_len,
        max_predictions_per_seq=max(4, seq_len // 8), batch_size=32,
        seed=seed, repeat=True)
    pretrainer = keras_albert.AlbertPretrainer(backbone)
    pretrainer.compile(optimizer=keras.optimizers.Lamb(WarmupPolynomialDecay(
        peak_learning_rate=learning_rate,
        warmup_steps=max(1, steps // 10), total_steps=steps)))
    history = pretrainer.fit(dataset, steps_per_epoch=steps, epochs=1,
                             verbose=0)
    return {k: float(v[-1]) for k, v in history.history.items()}


def padded(preprocessor, texts, seq_len):
    """Token dicts of `texts`, every row padded to `seq_len`."""
    import keras
    import numpy as np

    packed = preprocessor(texts)
    out = {}
    for name, value in packed.items():
        value = keras.ops.convert_to_numpy(value)
        pad = seq_len - value.shape[1]
        out[name] = np.pad(value, ((0, 0), (0, pad))).astype("int32")
    return out


def _outputs(model, batch):
    """`(logits, layers_used)` of one `predict_on_batch`."""
    import numpy as np

    out = model.predict_on_batch(batch)
    if isinstance(out, dict):
        return np.asarray(out["logits"]), np.asarray(out["layers_used"])
    out = np.asarray(out)
    return out, np.full(len(out), model.backbone.num_layers)


def measure(model, x_test, y_test, latency_examples, reference=None):
    """Accuracy, mean layers, batch-1 median ms and batch-32 texts/s of
    `model`; with a `reference` model, each timed call of `model` is
    paired with one of `reference` on the same batch, right before it, and
    the reference's numbers come back too (`reference_ms_batch1`,
    `reference_texts_per_s_batch32`), so that a speed-up compares calls
    made under the same machine conditions."""
    import numpy as np

    models = [model] if reference is None else [reference, model]
    count = len(y_test)
    chunks = [{k: v[i:i + 32] for k, v in x_test.items()}
              for i in range(0, count, 32)]
    singles = [{k: v[i:i + 1] for k, v in x_test.items()}
               for i in range(min(latency_examples, count))]
    for each in models:  # traces the batch shapes
        _outputs(each, chunks[0])
        _outputs(each, chunks[-1])
        _outputs(each, singles[0])

    def timed(batches):
        seconds = [[] for _ in models]
        results = []
        for batch in batches:
            for index, each in enumerate(models):
                started = time.perf_counter()
                result = _outputs(each, batch)
                seconds[index].append(time.perf_counter() - started)
            results.append(result)  # the model's (the last)
        return seconds, results

    batch_seconds, results = timed(chunks)
    single_seconds, _ = timed(singles)
    logits = np.concatenate([r[0] for r in results])
    layers = np.concatenate([r[1] for r in results])
    measured = {
        "accuracy": float(np.mean(logits.argmax(-1) == y_test)),
        "mean_layers": float(np.mean(layers)),
        "ms_batch1": 1000 * statistics.median(single_seconds[-1]),
        "texts_per_s_batch32": count / sum(batch_seconds[-1]),
    }
    if reference is not None:
        measured["reference_ms_batch1"] = 1000 * statistics.median(
            single_seconds[0])
        measured["reference_texts_per_s_batch32"] = count / sum(
            batch_seconds[0])
    return measured


def main(argv=None):
    args, settings = parse_args(argv)
    import keras
    import numpy as np

    import keras_albert
    from keras_albert.finetuning import finetuning_optimizer

    if keras.backend.backend() != "tensorflow":
        raise SystemExit("Run with KERAS_BACKEND=tensorflow.")
    keras.utils.set_random_seed(args.seed)
    started = time.time()
    corpus, documents, train, test, labels = load_task(
        args.seed, settings["labelled_examples"])
    if args.quick:
        # A sample of every class (the split lists them class by class).
        test = test[::max(1, len(test) // 48)][:48]
    work = tempfile.mkdtemp(prefix="early_exit_bench_")
    spm_path = os.path.join(work, "spiece.model")
    keras_albert.train_sentencepiece(
        corpus, spm_path, vocabulary_size=settings["vocabulary_size"])
    tokenizer = keras_albert.AlbertTokenizer(proto=spm_path)
    preprocessor = keras_albert.AlbertPreprocessor(
        tokenizer, sequence_length=args.seq_len)

    t = time.time()
    backbone, pretrain_logs = pretrain(documents, tokenizer, settings,
                                       args.seq_len, args.seed)
    pretrain_seconds = time.time() - t

    x_train = np.array([s for s, _ in train])
    y_train = np.array([y for _, y in train], "int32")
    x_test = padded(preprocessor, [s for s, _ in test], args.seq_len)
    y_test = np.array([y for _, y in test], "int32")

    pretrained = backbone.get_weights()
    steps = settings["finetune_epochs"] * -(-len(x_train) // 16)

    def fine_tune(model):
        # Warm-up and linear decay: twelve post-LayerNorm layers on a
        # weakly pretrained backbone collapse to the majority class at a
        # constant 5e-4 (the quickstart's rate for its four layers).
        model.compile(optimizer=finetuning_optimizer(
            model, 2e-4, total_steps=steps, warmup_ratio=0.1))
        model.fit(x_train, y_train, batch_size=16,
                  epochs=settings["finetune_epochs"], verbose=0)

    t = time.time()
    classifier = keras_albert.AlbertClassifier(
        backbone, num_classes=len(labels), preprocessor=preprocessor,
        label_names=labels)
    fine_tune(classifier)
    finetune_seconds = time.time() - t

    t = time.time()
    frozen = keras_albert.AlbertEarlyExitClassifier.from_classifier(
        classifier, patience=settings["num_layers"],
        exits_trainable_only=True)
    frozen.compile(optimizer=keras.optimizers.AdamW(1e-3))
    frozen.fit(x_train, y_train, batch_size=16,
               epochs=settings["exit_epochs"], verbose=0)
    exit_seconds = time.time() - t

    # PABEE as in the paper: the whole model fine-tuned from the
    # pretrained backbone with the depth-weighted loss of every exit,
    # with the classifier's schedule.
    t = time.time()
    joint_backbone = keras_albert.AlbertBackbone.from_config(
        backbone.get_config())
    joint_backbone.set_weights(pretrained)
    joint = keras_albert.AlbertEarlyExitClassifier(
        joint_backbone, num_classes=len(labels), preprocessor=preprocessor,
        label_names=labels, patience=settings["num_layers"])
    fine_tune(joint)
    joint_seconds = time.time() - t

    rows = []
    full = measure(classifier, x_test, y_test, settings["latency_examples"])
    full_row = dict(full, model="AlbertClassifier (full depth)",
                    training="fine-tuned", patience="-")
    rows.append(full_row)
    variants = (("exits on the frozen classifier", frozen),
                ("PABEE fine-tuning (all weights)", joint))
    for training, model in variants:
        for patience in range(1, settings["num_layers"] + 1):
            model.patience = patience
            result = measure(model, x_test, y_test,
                             settings["latency_examples"],
                             reference=classifier)
            rows.append(dict(result, model="AlbertEarlyExitClassifier",
                             training=training, patience=patience))
    paired = rows[1:]
    # The full-depth classifier's timings: the median of its runs paired
    # with every early-exit row (its accuracy does not change).
    full_row["ms_batch1"] = statistics.median(
        r["reference_ms_batch1"] for r in paired)
    full_row["texts_per_s_batch32"] = statistics.median(
        r["reference_texts_per_s_batch32"] for r in paired)
    full_row["reference_ms_batch1"] = full_row["ms_batch1"]
    full_row["reference_texts_per_s_batch32"] = full_row[
        "texts_per_s_batch32"]
    for row in rows:
        row["speedup_batch1"] = (row["reference_ms_batch1"]
                                 / row["ms_batch1"])
        row["speedup_batch32"] = (row["texts_per_s_batch32"]
                                  / row["reference_texts_per_s_batch32"])
        row["accuracy_points_vs_full"] = 100 * (row["accuracy"]
                                                - full["accuracy"])

    majority = float(np.max(np.bincount(y_test)) / len(y_test))
    load = os.getloadavg()
    print(f"\nEarly exit (PABEE) on the quickstart task: {len(train)} "
          f"training sentences, {len(test)} held-out sentences from other "
          f"modules, {len(labels)} classes; {settings['num_layers']} "
          f"layers, hidden {settings['hidden_dim']}; inputs padded to "
          f"{args.seq_len}; majority class {majority:.3f}.")
    stacked = pretrain_logs.get("stacked", {})
    deep = pretrain_logs.get("full", {})
    print(f"Pretraining: {settings['stack_steps']} MLM+SOP steps of the "
          f"shared block at {settings['stack_layers']} layers (last MLM "
          f"{stacked.get('mlm_mlm_accuracy', float('nan')):.3f}, SOP "
          f"{stacked.get('sop_sop_accuracy', float('nan')):.3f}), then "
          f"{settings['pretrain_steps']} at {settings['num_layers']} layers "
          f"(SOP {deep.get('sop_sop_accuracy', float('nan')):.3f}); "
          f"{pretrain_seconds:.0f} s; "
          f"fine-tuning {settings['finetune_epochs']} epochs "
          f"({finetune_seconds:.0f} s); exits only, frozen classifier, "
          f"{settings['exit_epochs']} epochs ({exit_seconds:.0f} s); "
          f"PABEE fine-tuning {settings['finetune_epochs']} epochs "
          f"({joint_seconds:.0f} s).")
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} / "
          f"{load[1]:.2f} / {load[2]:.2f} (1/5/15 min) at the end; "
          f"keras {keras.__version__}, backend {keras.backend.backend()}.")
    print()
    header = ("model", "training", "patience", "accuracy", "vs full (points)",
              "mean layers", "ms batch 1", "speedup batch 1",
              "texts/s batch 32", "speedup batch 32")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join([
            row["model"], row["training"], str(row["patience"]),
            f"{row['accuracy']:.3f}",
            f"{row['accuracy_points_vs_full']:+.1f}",
            f"{row['mean_layers']:.2f}", f"{row['ms_batch1']:.2f}",
            f"{row['speedup_batch1']:.2f}",
            f"{row['texts_per_s_batch32']:.1f}",
            f"{row['speedup_batch32']:.2f}"]) + " |")
    for training, _ in variants:
        within = [r for r in rows if r["training"] == training
                  and r["accuracy_points_vs_full"] >= -1.0]
        if within:
            best = max(within, key=lambda r: r["speedup_batch1"])
            print(f"\n{training}: fastest at batch 1 within 1 point of "
                  f"full depth: patience {best['patience']}, "
                  f"{best['speedup_batch1']:.2f}x "
                  f"({best['mean_layers']:.2f} of {settings['num_layers']} "
                  f"layers, accuracy {best['accuracy_points_vs_full']:+.1f} "
                  "points).")
    print(f"Total {time.time() - started:.0f} s.")
    if args.json:
        from keras_albert.utils.atomic_files import atomic_file

        with atomic_file(args.json, encoding="utf-8") as f:
            json.dump({"settings": settings, "seq_len": args.seq_len,
                       "load_average": load, "results": rows,
                       "train_examples": len(train),
                       "majority_class_accuracy": majority,
                       "pretrain_logs": pretrain_logs,
                       "test_examples": len(test)}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
