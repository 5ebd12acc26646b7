"""Shared fixtures: a tiny SentencePiece model trained once per session and
tiny ALBERT configurations, so the whole matrix stays fast on 2 cores."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

TINY_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A lite BERT shares its parameters across all layers.",
    "Sentence order prediction asks whether two segments are swapped.",
    "Masked language modelling hides fifteen percent of the tokens.",
    "Factorized embeddings map a small vocabulary space to the hidden size.",
    "Tokenizers split words into pieces that the model can read.",
    "Keras runs the same layers on TensorFlow, JAX and PyTorch.",
    "Good movies make people happy, bad movies make people sad.",
    "This film was wonderful and the acting was great.",
    "That film was terrible and the plot was boring.",
    "Numbers like 1, 2 and 3 appear in text too.",
    "Café, naïve and résumé have accents that may be stripped.",
] * 20


@pytest.fixture(scope="session")
def spm_proto(tmp_path_factory):
    """Serialized bytes of a tiny SentencePiece model with ALBERT's specials."""
    from keras_albert.preprocessing import train_sentencepiece

    out = tmp_path_factory.mktemp("spm") / "tiny.model"
    train_sentencepiece(TINY_CORPUS, out, vocabulary_size=160)
    return out.read_bytes()


@pytest.fixture(scope="session")
def spm_path(spm_proto, tmp_path_factory):
    path = tmp_path_factory.mktemp("spm_file") / "spiece.model"
    path.write_bytes(spm_proto)
    return str(path)


TINY_CONFIG = dict(
    vocabulary_size=160,
    num_layers=2,
    num_heads=2,
    embedding_dim=16,
    hidden_dim=32,
    intermediate_dim=64,
    max_sequence_length=64,
    num_segments=2,
)


@pytest.fixture
def tiny_config():
    return dict(TINY_CONFIG)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield
