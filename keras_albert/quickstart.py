"""`keras-albert quickstart`: pretraining visibly helping, offline, on CPU.

On a fresh machine with no network, in a few minutes:
1. harvests documentation prose from the Python standard library (a real,
   PSF-licensed corpus present on every Python installation);
2. trains a SentencePiece vocabulary with ALBERT's special tokens;
3. pretrains a small ALBERT with masked-LM (n-gram masking) and
   sentence-order prediction on that corpus;
4. fine-tunes a classifier on a real labelled task derived from it (which
   package a documentation sentence belongs to) with few labels (300
   sentences by default; test modules are never seen in training), once
   from the pretrained backbone and once from random initialisation, with
   the same budget;
5. prints a summary table and saves a training-curve PNG.
"""

import argparse
import collections
import json
import os
import random
import time

QUICKSTART_PACKAGES = ("asyncio", "email", "logging", "xml")

SMALL_ALBERT = dict(
    num_layers=4,
    num_heads=4,
    embedding_dim=64,
    hidden_dim=128,
    intermediate_dim=256,
)


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
              verbose, learning_rate):
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
    logs_per_epoch = 10
    history = pretrainer.fit(
        dataset, steps_per_epoch=max(1, steps // logs_per_epoch),
        epochs=logs_per_epoch, verbose=verbose,
    )
    return pretrainer, history.history


def _finetune(backbone, preprocessor, data, labels, epochs, batch_size,
              verbose, learning_rate):
    import keras
    import numpy as np

    import keras_albert

    x_train, y_train, x_test, y_test = data
    classifier = keras_albert.AlbertClassifier(
        backbone, num_classes=len(labels), preprocessor=preprocessor,
    )
    classifier.compile(optimizer=keras.optimizers.AdamW(learning_rate))
    history = classifier.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs,
        validation_data=(x_test, y_test), verbose=verbose,
    )
    predictions = classifier.predict(x_test, batch_size=64, verbose=0)
    accuracy = float((np.argmax(predictions, -1) == y_test).mean())
    return classifier, accuracy, history.history


def _plot(pretrain_history, finetune_histories, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed; skipping the training-curve PNG")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for key in ("mlm_mlm_accuracy", "sop_sop_accuracy"):
        if key in pretrain_history:
            ax.plot(pretrain_history[key], marker="o",
                    label=key.split("_")[0].upper() + " accuracy")
    ax.set_title("Pretraining (MLM + SOP)")
    ax.set_xlabel("checkpoint (tenths of the run)")
    ax.legend()
    ax = axes[1]
    for name, history in finetune_histories.items():
        ax.plot(history.get("val_accuracy", []), marker="o",
                label=f"{name}: held-out accuracy")
    ax.set_title("Fine-tuning: which package documents a sentence")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_quickstart(output_dir="quickstart_output", pretrain_steps=1500,
                   finetune_epochs=8, vocabulary_size=2000,
                   labelled_examples=300, sequence_length=64, batch_size=32,
                   finetune_batch_size=16, seed=0, verbose=2,
                   pretrain_learning_rate=1e-2, finetune_learning_rate=5e-4,
                   packages=None):
    """Runs the quickstart; returns a dict of its measurements."""
    import keras
    import numpy as np

    import keras_albert
    from keras_albert.datasets import load_python_docs

    keras.utils.set_random_seed(seed)
    os.makedirs(output_dir, exist_ok=True)
    start = time.time()
    documents = load_python_docs(packages) if packages else (
        load_python_docs()
    )
    corpus = [s for _, sentences in documents for s in sentences]
    print(f"[1/5] corpus: {len(documents)} stdlib modules, "
          f"{len(corpus)} sentences")

    spm_path = os.path.join(output_dir, "spiece.model")
    keras_albert.train_sentencepiece(corpus, spm_path,
                                     vocabulary_size=vocabulary_size)
    tokenizer = keras_albert.AlbertTokenizer(proto=spm_path)
    preprocessor = keras_albert.AlbertPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    print(f"[2/5] tokenizer: {tokenizer.vocabulary_size()} pieces")

    print(f"[3/5] pretraining a small ALBERT for {pretrain_steps} steps")
    pretrainer, pretrain_history = _pretrain(
        documents, tokenizer, sequence_length, pretrain_steps, batch_size,
        seed, verbose, pretrain_learning_rate,
    )
    pretrainer.save_to_preset(os.path.join(output_dir, "pretrained"))
    mlm_accuracy = pretrain_history.get("mlm_mlm_accuracy", [float("nan")])
    sop_accuracy = pretrain_history.get("sop_sop_accuracy", [float("nan")])

    labels = list(QUICKSTART_PACKAGES)
    train, test = _split_documents(documents, labels, 0.2, seed)
    train = train[:labelled_examples] if labelled_examples else train
    data = (
        np.array([s for s, _ in train]),
        np.array([y for _, y in train], "int32"),
        np.array([s for s, _ in test]),
        np.array([y for _, y in test], "int32"),
    )
    print(f"[4/5] fine-tuning on {len(train)} sentences, testing on "
          f"{len(test)} from other modules")
    keras.utils.set_random_seed(seed)
    pretrained_backbone = keras_albert.AlbertBackbone.from_preset(
        os.path.join(output_dir, "pretrained")
    )
    classifier, accuracy_pretrained, history_pretrained = _finetune(
        pretrained_backbone, preprocessor, data, labels, finetune_epochs,
        finetune_batch_size, verbose, finetune_learning_rate,
    )
    classifier.save_to_preset(os.path.join(output_dir, "classifier"))
    keras.utils.set_random_seed(seed)
    random_backbone = keras_albert.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=sequence_length, **SMALL_ALBERT,
    )
    _, accuracy_random, history_random = _finetune(
        random_backbone, preprocessor, data, labels, finetune_epochs,
        finetune_batch_size, verbose, finetune_learning_rate,
    )
    majority = collections.Counter(data[3].tolist()).most_common(1)[0][1]
    baseline = majority / len(data[3])
    png = _plot(
        pretrain_history,
        {"from pretrained": history_pretrained,
         "from random init": history_random},
        os.path.join(output_dir, "training_curves.png"),
    )
    results = {
        "mlm_accuracy": float(mlm_accuracy[-1]),
        "sop_accuracy": float(sop_accuracy[-1]),
        "accuracy_from_pretrained": accuracy_pretrained,
        "accuracy_from_random": accuracy_random,
        "majority_baseline": baseline,
        "train_sentences": len(train),
        "test_sentences": len(test),
        "seconds": round(time.time() - start, 1),
    }
    with open(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("\n[5/5] summary")
    print("| measure | value |")
    print("|---|---|")
    print(f"| pretraining MLM accuracy (last tenth) | "
          f"{results['mlm_accuracy']:.3f} |")
    print(f"| pretraining SOP accuracy (last tenth) | "
          f"{results['sop_accuracy']:.3f} |")
    print(f"| fine-tuned accuracy, from pretrained | "
          f"{accuracy_pretrained:.3f} |")
    print(f"| fine-tuned accuracy, from random init | "
          f"{accuracy_random:.3f} |")
    print(f"| majority-class baseline | {baseline:.3f} |")
    print(f"\ntask: which package ({', '.join(labels)}) a sentence documents;"
          f" {len(train)} train / {len(test)} test sentences")
    if png:
        print(f"training curves: {png}")
    print(f"presets: {output_dir}/pretrained, {output_dir}/classifier "
          f"({results['seconds']:.0f} s in all)")
    return results


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "quickstart",
        help="Pretrain and fine-tune a small ALBERT offline (minutes, CPU).",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", default="quickstart_output")
    parser.add_argument("--pretrain-steps", type=int, default=1500)
    parser.add_argument("--finetune-epochs", type=int, default=8)
    parser.add_argument("--labelled-examples", type=int, default=300,
                        help="labelled sentences to fine-tune on (0: all)")
    parser.add_argument("--vocabulary-size", type=int, default=2000)
    parser.add_argument("--pretrain-learning-rate", type=float, default=1e-2)
    parser.add_argument("--finetune-learning-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.set_defaults(func=_run_from_args)
    return parser


def _run_from_args(args):
    run_quickstart(
        output_dir=args.output, pretrain_steps=args.pretrain_steps,
        finetune_epochs=args.finetune_epochs,
        labelled_examples=args.labelled_examples,
        vocabulary_size=args.vocabulary_size, seed=args.seed,
        verbose=args.verbose,
        pretrain_learning_rate=args.pretrain_learning_rate,
        finetune_learning_rate=args.finetune_learning_rate,
    )
    return 0
