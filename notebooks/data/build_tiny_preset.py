"""Builds `notebooks/data/tiny_preset/`: the tiny ALBERT the notebooks load
in CI in place of a named preset (`PRESET = "data/tiny_preset"`).

A randomly initialised backbone (2 layers, hidden 32, 2 heads, embedding 16,
intermediate 64, 128 positions) with its own SentencePiece vocabulary of
at most 400 pieces, trained on prose from Python's standard library
(`keras_albert.datasets.load_python_docs`), so English text tokenizes into
real word pieces rather than `<unk>`. Written with `save_to_preset`, so
`AlbertBackbone.from_preset("data/tiny_preset")` and every task's
`from_preset(..., num_classes=...)` read it as they read a named preset.

Deterministic: SentencePiece runs single-threaded with a fixed seed and the
weights come from a fixed Keras seed; the standard library's docstrings
change between Python versions, so a rebuild on another Python version may
give a different (equally valid) vocabulary, and `metadata.json` records
the date it was written. The built files are committed;
rebuild only when the preset format changes:

    python notebooks/data/build_tiny_preset.py
"""

import argparse
import os
import tempfile

# The weights are the same on every backend; TensorFlow is the one every
# install has.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

import keras_albert  # noqa: E402
from keras_albert.datasets import load_python_docs  # noqa: E402
from keras_albert.presets.loader import save_preset  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "tiny_preset")

# The stdlib packages whose docstrings train the vocabulary: general prose
# about files, text, networking and time, a few thousand sentences.
CORPUS_PACKAGES = ("asyncio", "email", "logging", "json", "http", "pathlib",
                   "argparse", "collections", "unittest", "zipfile")
VOCABULARY_SIZE = 400
BACKBONE_CONFIG = {
    "num_layers": 2,
    "num_heads": 2,
    "embedding_dim": 16,
    "hidden_dim": 32,
    "intermediate_dim": 64,
    "max_sequence_length": 128,
}
SEED = 0


def build(output_dir=DEFAULT_OUTPUT):
    """Trains the vocabulary, builds the backbone and writes the preset to
    `output_dir` (replaced whole). Returns the backbone."""
    corpus = [sentence for _, sentences in load_python_docs(CORPUS_PACKAGES)
              for sentence in sentences]
    with tempfile.TemporaryDirectory() as scratch:
        model_path = keras_albert.train_sentencepiece(
            corpus, os.path.join(scratch, "spiece.model"),
            vocabulary_size=VOCABULARY_SIZE, seed=SEED, num_threads=1)
        tokenizer = keras_albert.AlbertTokenizer(proto=model_path)
    keras.utils.set_random_seed(SEED)
    backbone = keras_albert.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), **BACKBONE_CONFIG)
    # `save_to_preset` of a task writes its tokenizer along; a bare backbone
    # gets it through the loader's `tokenizer=` (same files, same format).
    save_preset(backbone, output_dir, tokenizer=tokenizer)
    return backbone, len(corpus)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help="preset directory to (re)write")
    args = parser.parse_args(argv)
    backbone, sentences = build(args.output)
    size = sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(args.output) for name in names)
    print(f"{args.output}: {backbone.count_params():,} parameters, "
          f"vocabulary {backbone.vocabulary_size} from {sentences} sentences, "
          f"{size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
