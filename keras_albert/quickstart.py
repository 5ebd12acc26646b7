"""`keras-albert quickstart`: a real end-to-end run on a fresh machine.

Offline, on CPU, in a few minutes: harvests documentation prose from the
Python standard library, trains a SentencePiece vocabulary on it, trains a
small ALBERT classifier to tell which package a sentence documents, and
prints held-out accuracy against the majority-class baseline.
"""

import argparse
import collections
import os
import random
import time

QUICKSTART_PACKAGES = ("asyncio", "email", "logging", "xml")


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


def run_quickstart(output_dir="quickstart_output", epochs=4, vocabulary_size=3000,
                   sequence_length=64, batch_size=32, seed=0, verbose=1):
    """Runs the quickstart and returns a dict of its measurements."""
    import keras
    import numpy as np

    import keras_albert
    from keras_albert.datasets import load_python_docs

    keras.utils.set_random_seed(seed)
    os.makedirs(output_dir, exist_ok=True)
    start = time.time()
    documents = load_python_docs()
    corpus = [s for _, sentences in documents for s in sentences]
    print(f"corpus: {len(documents)} stdlib modules, {len(corpus)} sentences")

    spm_path = os.path.join(output_dir, "spiece.model")
    keras_albert.train_sentencepiece(
        corpus, spm_path, vocabulary_size=vocabulary_size
    )
    tokenizer = keras_albert.AlbertTokenizer(proto=spm_path)
    preprocessor = keras_albert.AlbertPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    print(f"tokenizer: {tokenizer.vocabulary_size()} SentencePiece pieces")

    labels = list(QUICKSTART_PACKAGES)
    train, test = _split_documents(documents, labels, 0.2, seed)
    x_train = np.array([s for s, _ in train])
    y_train = np.array([y for _, y in train], "int32")
    x_test = np.array([s for s, _ in test])
    y_test = np.array([y for _, y in test], "int32")

    backbone = keras_albert.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=4,
        num_heads=4,
        embedding_dim=64,
        hidden_dim=128,
        intermediate_dim=256,
        max_sequence_length=sequence_length,
    )
    classifier = keras_albert.AlbertClassifier(
        backbone, num_classes=len(labels), preprocessor=preprocessor,
    )
    classifier.compile(optimizer=keras.optimizers.AdamW(1e-3))
    classifier.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                   verbose=verbose)
    predictions = classifier.predict(x_test, batch_size=64, verbose=0)
    accuracy = float((predictions.argmax(-1) == y_test).mean())
    majority = collections.Counter(y_test.tolist()).most_common(1)[0][1]
    baseline = majority / len(y_test)
    classifier.save_to_preset(os.path.join(output_dir, "classifier"))
    results = {
        "train_sentences": len(train),
        "test_sentences": len(test),
        "accuracy": accuracy,
        "majority_baseline": baseline,
        "seconds": time.time() - start,
    }
    print()
    print("| task | train | test | accuracy | majority baseline |")
    print("|---|---|---|---|---|")
    print(
        f"| which package documents a sentence ({', '.join(labels)}) | "
        f"{len(train)} | {len(test)} | {accuracy:.3f} | {baseline:.3f} |"
    )
    print(f"\nsaved the classifier preset to {output_dir}/classifier "
          f"({results['seconds']:.0f} s)")
    return results


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "quickstart",
        help="Train a tokenizer and a small ALBERT classifier offline.",
        description=__doc__,
    )
    parser.add_argument("--output", default="quickstart_output")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--vocabulary-size", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_run_from_args)
    return parser


def _run_from_args(args):
    run_quickstart(output_dir=args.output, epochs=args.epochs,
                   vocabulary_size=args.vocabulary_size, seed=args.seed)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="keras-albert")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
