"""`keras-albert quickstart`: pretraining visibly helping, offline, on CPU.

On a fresh machine with no network, in five stages:
1. harvests documentation prose from the Python standard library (a real,
   PSF-licensed corpus present on every Python installation);
2. trains a SentencePiece vocabulary with ALBERT's special tokens;
3. pretrains a small ALBERT with masked-LM (n-gram masking) and
   sentence-order prediction on that corpus;
4. fine-tunes a classifier from the pretrained backbone on a real labelled
   task derived from it (which package a documentation sentence belongs
   to) with few labels (300 sentences by default; test modules are never
   seen in training);
5. fine-tunes the same classifier from random initialisation, with the
   same budget;
then prints a summary table and saves a training-curve PNG. One progress
bar with the time left covers all five stages. `--fast` is a 1-2 minute
smoke run (fewer steps and epochs; its accuracies say little).
"""

import argparse
import collections
import json
import math
import os
import random
import sys
import time

QUICKSTART_PACKAGES = ("asyncio", "email", "logging", "xml")

SMALL_ALBERT = dict(
    num_layers=4,
    num_heads=4,
    embedding_dim=64,
    hidden_dim=128,
    intermediate_dim=256,
)

# The full run (the README's numbers) and the `--fast` smoke run.
FULL_SETTINGS = dict(pretrain_steps=1500, finetune_epochs=8,
                     vocabulary_size=2000)
FAST_SETTINGS = dict(pretrain_steps=100, finetune_epochs=2,
                     vocabulary_size=1000)

# The progress bar counts work in "pretraining steps": what each stage, or
# one of its batches, costs relative to a pretraining step (batch 32), as
# measured on a 2-core CPU. Only the time-left estimate depends on them.
_WORK = {
    "corpus": 16.0,       # harvesting docstrings, in all
    "tokenizer": 13.0,    # training SentencePiece, in all
    "setup": 25.0,        # building and tracing a model's training step
    "pretrain": 1.0,      # per step
    "train": 0.5,         # per fine-tuning batch (16 sentences)
    "test": 0.3,          # per held-out batch (forward only)
}
STAGES = 5


def _split_documents(documents, labels, eval_fraction, seed):
    """Splits by module (not by sentence) so no module is in both sets."""
    rng = random.Random(seed)
    train, test = [], []
    for label in labels:
        docs = [s for p, s in documents if p == label]
        rng.shuffle(docs)
        n_eval = max(1, int(len(docs) * eval_fraction))
        for i, sentences in enumerate(docs):
            target = test if i < n_eval else train
            target.extend((s, labels.index(label)) for s in sentences)
    rng.shuffle(train)
    return train, test


def _pretrain(documents, tokenizer, sequence_length, steps, batch_size, seed,
              progress, learning_rate):
    import keras

    import keras_albert
    from keras_albert.optimizers.schedules import WarmupPolynomialDecay
    from keras_albert.pretraining.pretraining_dataset import (
        make_pretraining_dataset,
    )

    dataset = make_pretraining_dataset(
        documents, tokenizer, sequence_length=sequence_length,
        max_predictions_per_seq=max(4, sequence_length // 8),
        batch_size=batch_size, seed=seed, repeat=True,
    )
    backbone = keras_albert.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=sequence_length, **SMALL_ALBERT,
    )
    pretrainer = keras_albert.AlbertPretrainer(backbone)
    schedule = WarmupPolynomialDecay(
        peak_learning_rate=learning_rate, warmup_steps=max(1, steps // 10),
        total_steps=steps,
    )
    pretrainer.compile(optimizer=keras.optimizers.Lamb(schedule))
    logs_per_run = 10
    steps_per_epoch = max(1, steps // logs_per_run)
    history = pretrainer.fit(
        dataset, steps_per_epoch=steps_per_epoch, epochs=logs_per_run,
        verbose=0, callbacks=[progress.callback(
            "pretraining", steps_per_epoch=steps_per_epoch)],
    )
    return pretrainer, history.history, steps_per_epoch


def _finetune(backbone, preprocessor, data, labels, epochs, batch_size,
              progress, learning_rate, run_name):
    import keras

    import keras_albert

    x_train, y_train, x_test, y_test = data
    classifier = keras_albert.AlbertClassifier(
        backbone, num_classes=len(labels), preprocessor=preprocessor,
        label_names=labels,
    )
    classifier.compile(optimizer=keras.optimizers.AdamW(learning_rate))
    callback = progress.callback(run_name, epochs=epochs)
    history = classifier.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs,
        validation_data=(x_test, y_test), verbose=0, callbacks=[callback],
    )
    # Keras scores the held-out sentences after every epoch; the last
    # score is the fine-tuned model's.
    accuracy = float(history.history["val_accuracy"][-1])
    return classifier, accuracy, history.history


def training_curves_figure(pretrain_history, pretrain_steps_per_log,
                           finetune_histories, baseline):
    """The training-curve figure: pretraining accuracies by step (on
    training batches, with SOP's chance level) and held-out fine-tuning
    accuracy by epoch from 1 (with the majority-class baseline), both
    y axes accuracy from 0 to 1.

    Args:
        pretrain_history: Keras history dict of the pretraining run.
        pretrain_steps_per_log: int. Steps between its entries.
        finetune_histories: `{run name: Keras history dict}` with
            `val_accuracy` per epoch.
        baseline: float. The majority-class accuracy on the test set.

    Returns:
        A matplotlib `Figure`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    ax = axes[0]
    for key, name in (("mlm_mlm_accuracy", "MLM"),
                      ("sop_sop_accuracy", "SOP")):
        values = pretrain_history.get(key, [])
        steps = [(i + 1) * pretrain_steps_per_log for i in range(len(values))]
        ax.plot(steps, values, marker="o", label=f"{name} accuracy")
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=1,
               label="SOP chance (0.5)")
    ax.set_title("Pretraining (MLM + SOP)\n"
                 "accuracies are on training batches")
    ax.set_xlabel("pretraining step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax = axes[1]
    for name, history in finetune_histories.items():
        values = history.get("val_accuracy", [])
        ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
    ax.axhline(baseline, color="gray", linestyle="--", linewidth=1,
               label=f"majority class ({baseline:.3f})")
    ax.set_title("Fine-tuning: which package documents a sentence\n"
                 "accuracy on held-out modules")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    epochs = max((len(h.get("val_accuracy", []))
                  for h in finetune_histories.values()), default=0)
    ax.set_xticks(range(1, epochs + 1, max(1, math.ceil(epochs / 10))))
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def _plot(pretrain_history, pretrain_steps_per_log, finetune_histories,
          baseline, path):
    """Saves `training_curves_figure(...)` to `path`; None without
    matplotlib."""
    try:
        fig = training_curves_figure(pretrain_history, pretrain_steps_per_log,
                                     finetune_histories, baseline)
    except ImportError:
        print("matplotlib is not installed; skipping the training-curve PNG")
        return None
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


class _Progress:
    """One progress bar over the five stages, with the time left.

    Work is counted in pretraining-step units (see `_WORK`), so the
    estimate holds across stages that run at different speeds. Stage
    headers always print; the bar and the per-epoch lines only when
    `enabled`.
    """

    def __init__(self, enabled):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            # On a terminal the bar redraws twice a second; in a log file
            # each redraw is kept, so only every half minute.
            interactive = getattr(sys.stderr, "isatty", lambda: False)()
            self.bar = tqdm(
                total=1.0, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5 if interactive else 30.0, miniters=1,
                bar_format=("{desc} {percentage:3.0f}%|{bar}| "
                            "{elapsed} elapsed, {remaining} left"),
            )

    def set_total(self, work):
        if self.bar is not None:
            self.bar.total = work
            self.bar.refresh()

    def stage(self, number, text):
        self.write(f"[{number}/{STAGES}] {text}")
        if self.bar is not None:
            self.bar.set_description_str(f"[{number}/{STAGES}]")

    def advance(self, work):
        if self.bar is not None:
            # The work estimate may fall short; the bar stops at 100%.
            self.bar.update(max(0.0, min(work, self.bar.total - self.bar.n)))

    def write(self, line):
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(line, flush=True)

    def callback(self, run_name, steps_per_epoch=None, epochs=None):
        """A Keras callback that advances the bar per batch and prints one
        line per pretraining tenth (`steps_per_epoch`) or fine-tuning
        epoch, named `run_name`."""
        import keras

        progress = self
        pretraining = steps_per_epoch is not None

        class StageProgress(keras.callbacks.Callback):
            started = False

            def on_train_batch_end(self, batch, logs=None):
                if not self.started:  # the first step also traced
                    self.started = True
                    progress.advance(_WORK["setup"])
                progress.advance(_WORK["pretrain" if pretraining
                                       else "train"])

            def on_test_batch_end(self, batch, logs=None):
                progress.advance(_WORK["test"])

            def on_epoch_end(self, epoch, logs=None):
                if progress.bar is None:
                    return
                logs = logs or {}
                if pretraining:
                    progress.write(
                        f"      step {(epoch + 1) * steps_per_epoch}: MLM "
                        f"accuracy {logs.get('mlm_mlm_accuracy', 0):.3f}, "
                        f"SOP accuracy {logs.get('sop_sop_accuracy', 0):.3f}"
                        " (training batches)")
                else:
                    progress.write(
                        f"      {run_name}, epoch {epoch + 1}/{epochs}: "
                        f"loss {logs.get('loss', 0):.3f}, held-out accuracy "
                        f"{logs.get('val_accuracy', 0):.3f}")

        return StageProgress()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _work_total(pretrain_steps, finetune_epochs, train_size, test_size,
                batch_size):
    steps = max(1, pretrain_steps // 10) * 10
    per_epoch = (math.ceil(train_size / batch_size) * _WORK["train"]
                 + math.ceil(test_size / batch_size) * _WORK["test"])
    return (_WORK["corpus"] + _WORK["tokenizer"] + 3 * _WORK["setup"]
            + steps * _WORK["pretrain"] + 2 * finetune_epochs * per_epoch)


def run_quickstart(output_dir="quickstart_output", pretrain_steps=1500,
                   finetune_epochs=8, vocabulary_size=2000,
                   labelled_examples=300, sequence_length=64, batch_size=32,
                   finetune_batch_size=16, seed=0, verbose=1,
                   pretrain_learning_rate=1e-2, finetune_learning_rate=5e-4,
                   packages=None):
    """Runs the quickstart; returns a dict of its measurements.

    `verbose=0` prints only the stage headers and the summary; 1 (the
    default) adds the progress bar and one line per pretraining tenth and
    fine-tuning epoch. `results.json` (in `output_dir`) holds the returned
    dict, with the seconds each stage took under `stage_seconds`.
    """
    import keras
    import numpy as np

    import keras_albert
    from keras_albert.datasets import load_python_docs

    keras.utils.set_random_seed(seed)
    os.makedirs(output_dir, exist_ok=True)
    start = time.time()
    stage_seconds = {}
    progress = _Progress(enabled=verbose > 0)
    progress.set_total(_work_total(pretrain_steps, finetune_epochs,
                                   labelled_examples or 1000, 1000,
                                   finetune_batch_size))

    def stage_done(name, started):
        stage_seconds[name] = round(time.time() - started, 1)

    started = time.time()
    documents = load_python_docs(packages) if packages else (
        load_python_docs()
    )
    corpus = [s for _, sentences in documents for s in sentences]
    labels = list(QUICKSTART_PACKAGES)
    train, test = _split_documents(documents, labels, 0.2, seed)
    train = train[:labelled_examples] if labelled_examples else train
    progress.stage(1, f"corpus: {len(documents)} stdlib modules, "
                      f"{len(corpus)} sentences")
    progress.set_total(_work_total(pretrain_steps, finetune_epochs,
                                   len(train), len(test),
                                   finetune_batch_size))
    progress.advance(_WORK["corpus"])
    stage_done("corpus", started)

    started = time.time()
    spm_path = os.path.join(output_dir, "spiece.model")
    keras_albert.train_sentencepiece(corpus, spm_path,
                                     vocabulary_size=vocabulary_size)
    tokenizer = keras_albert.AlbertTokenizer(proto=spm_path)
    preprocessor = keras_albert.AlbertPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    progress.stage(2, f"tokenizer: {tokenizer.vocabulary_size()} pieces")
    progress.advance(_WORK["tokenizer"])
    stage_done("tokenizer", started)

    started = time.time()
    progress.stage(3, f"pretraining a small ALBERT for {pretrain_steps} "
                      "steps (MLM + SOP)")
    pretrainer, pretrain_history, steps_per_log = _pretrain(
        documents, tokenizer, sequence_length, pretrain_steps, batch_size,
        seed, progress, pretrain_learning_rate,
    )
    # The tokenizer travels with the preset, so `--preset` of every
    # command (finetune, convert, export) can read raw text.
    pretrainer.preprocessor = preprocessor
    pretrainer.save_to_preset(os.path.join(output_dir, "pretrained"))
    mlm_accuracy = pretrain_history.get("mlm_mlm_accuracy", [float("nan")])
    sop_accuracy = pretrain_history.get("sop_sop_accuracy", [float("nan")])
    stage_done("pretraining", started)

    data = (
        np.array([s for s, _ in train]),
        np.array([y for _, y in train], "int32"),
        np.array([s for s, _ in test]),
        np.array([y for _, y in test], "int32"),
    )
    started = time.time()
    progress.stage(4, f"fine-tuning FROM PRETRAINED weights on {len(train)} "
                      f"sentences, testing on {len(test)} from other modules")
    keras.utils.set_random_seed(seed)
    pretrained_backbone = keras_albert.AlbertBackbone.from_preset(
        os.path.join(output_dir, "pretrained")
    )
    classifier, accuracy_pretrained, history_pretrained = _finetune(
        pretrained_backbone, preprocessor, data, labels, finetune_epochs,
        finetune_batch_size, progress, finetune_learning_rate,
        "from pretrained",
    )
    classifier.save_to_preset(os.path.join(output_dir, "classifier"))
    stage_done("finetuning_from_pretrained", started)

    started = time.time()
    progress.stage(5, "fine-tuning FROM RANDOM INITIALISATION, same data "
                      "and budget")
    keras.utils.set_random_seed(seed)
    random_backbone = keras_albert.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=sequence_length, **SMALL_ALBERT,
    )
    _, accuracy_random, history_random = _finetune(
        random_backbone, preprocessor, data, labels, finetune_epochs,
        finetune_batch_size, progress, finetune_learning_rate,
        "from random init",
    )
    stage_done("finetuning_from_random", started)
    progress.close()

    majority = collections.Counter(data[3].tolist()).most_common(1)[0][1]
    baseline = majority / len(data[3])
    png = _plot(
        pretrain_history, steps_per_log,
        {"from pretrained": history_pretrained,
         "from random init": history_random},
        baseline, os.path.join(output_dir, "training_curves.png"),
    )
    results = {
        "mlm_accuracy": float(mlm_accuracy[-1]),
        "sop_accuracy": float(sop_accuracy[-1]),
        "accuracy_from_pretrained": accuracy_pretrained,
        "accuracy_from_random": accuracy_random,
        "majority_baseline": baseline,
        "train_sentences": len(train),
        "test_sentences": len(test),
        "pretrain_steps": pretrain_steps,
        "finetune_epochs": finetune_epochs,
        "seconds": round(time.time() - start, 1),
        "stage_seconds": stage_seconds,
    }
    from keras_albert.utils.atomic_files import atomic_file

    with atomic_file(os.path.join(output_dir, "results.json"),
                     encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    print("\nsummary")
    print("| measure | value |")
    print("|---|---|")
    print(f"| pretraining MLM accuracy (last tenth, training batches) | "
          f"{results['mlm_accuracy']:.3f} |")
    print(f"| pretraining SOP accuracy (last tenth, training batches) | "
          f"{results['sop_accuracy']:.3f} |")
    print(f"| fine-tuned accuracy, from pretrained | "
          f"{accuracy_pretrained:.3f} |")
    print(f"| fine-tuned accuracy, from random init | "
          f"{accuracy_random:.3f} |")
    print(f"| majority-class baseline | {baseline:.3f} |")
    print(f"\ntask: which package ({', '.join(labels)}) a sentence documents;"
          f" {len(train)} train / {len(test)} test sentences")
    print("seconds per stage: " + ", ".join(
        f"{name} {seconds:.0f}" for name, seconds in stage_seconds.items()))
    if png:
        print(f"training curves: {png}")
    print(f"presets (with the tokenizer): {output_dir}/pretrained, "
          f"{output_dir}/classifier ({results['seconds']:.0f} s in all)")
    return results


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "quickstart",
        help="Pretrain and fine-tune a small ALBERT offline (minutes, CPU).",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", default="quickstart_output")
    parser.add_argument(
        "--fast", action="store_true",
        help="Smoke run in 1-2 minutes: "
             f"{FAST_SETTINGS['pretrain_steps']} pretraining steps, "
             f"{FAST_SETTINGS['finetune_epochs']} fine-tuning epochs, "
             f"{FAST_SETTINGS['vocabulary_size']} pieces (the options below "
             "still apply).")
    parser.add_argument(
        "--pretrain-steps", type=int, default=None,
        help=f"default {FULL_SETTINGS['pretrain_steps']}")
    parser.add_argument(
        "--finetune-epochs", type=int, default=None,
        help=f"default {FULL_SETTINGS['finetune_epochs']}")
    parser.add_argument("--labelled-examples", type=int, default=300,
                        help="labelled sentences to fine-tune on (0: all)")
    parser.add_argument(
        "--vocabulary-size", type=int, default=None,
        help=f"default {FULL_SETTINGS['vocabulary_size']}")
    parser.add_argument("--pretrain-learning-rate", type=float, default=1e-2)
    parser.add_argument("--finetune-learning-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1,
                        help="0: stage headers and summary only; 1: also "
                             "the progress bar and a line per epoch")
    parser.set_defaults(func=_run_from_args)
    return parser


def settings_from_args(args):
    """The run's settings: explicit options, else `--fast`'s, else the
    full run's."""
    base = FAST_SETTINGS if args.fast else FULL_SETTINGS
    return {key: getattr(args, key) if getattr(args, key) is not None
            else value for key, value in base.items()}


def _run_from_args(args):
    results = run_quickstart(
        output_dir=args.output, labelled_examples=args.labelled_examples,
        seed=args.seed, verbose=args.verbose,
        pretrain_learning_rate=args.pretrain_learning_rate,
        finetune_learning_rate=args.finetune_learning_rate,
        **settings_from_args(args),
    )
    if args.fast:
        print(f"--fast is a smoke run ({results['pretrain_steps']} "
              f"pretraining steps, {results['finetune_epochs']} epochs): "
              "its accuracies say little; the full run takes minutes more.")
    return 0
