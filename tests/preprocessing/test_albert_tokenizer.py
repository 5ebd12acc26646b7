"""AlbertTokenizer: specials, normalisation, in-graph use, oracles."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.text_normalization import normalize_text

TEXTS = [
    "The Quick Brown FOX.",
    "Café naïve résumé",
    "  extra   spaces\tand\nnewlines ",
    "``Quoted'' text",
    "numbers 1, 2 and 3",
]


def test_special_ids_and_vocabulary(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    assert tokenizer.special_token_ids == [0, 1, 2, 3, 4]
    vocab = tokenizer.get_vocabulary()
    assert vocab[:5] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert tokenizer.vocabulary_size() == len(vocab) <= 160
    assert tokenizer.token_to_id("[MASK]") == 4
    assert tokenizer.id_to_token(2) == "[CLS]"
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.id_to_token(10_000)


def test_matches_sentencepiece_after_albert_normalisation(spm_path):
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=spm_path)
    tokenizer = AlbertTokenizer(proto=spm_path)
    got = tokenizer.tokenize_tf(TEXTS).to_list()
    want = [processor.encode(normalize_text(t)) for t in TEXTS]
    assert got == want


def test_matches_transformers_tokenizer(spm_path, tmp_path):
    import shutil

    transformers = pytest.importorskip("transformers")
    shutil.copy(spm_path, tmp_path / "spiece.model")
    hf = transformers.AlbertTokenizer.from_pretrained(
        str(tmp_path), do_lower_case=True, keep_accents=False
    )
    tokenizer = AlbertTokenizer(proto=spm_path)
    ours = tokenizer.tokenize_tf(TEXTS).to_list()
    theirs = [hf.encode(t, add_special_tokens=False) for t in TEXTS]
    assert ours == theirs


def test_normalisation_in_graph_equals_python(spm_path):
    from keras_albert.preprocessing.text_normalization import (
        normalize_text_tf,
    )

    got = [s.decode() for s in normalize_text_tf(tf.constant(TEXTS)).numpy()]
    assert got == [normalize_text(t) for t in TEXTS]
    assert got[1] == "cafe naive resume"
    assert got[3] == '"quoted" text'


def test_case_sensitive_option(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path, lowercase=False)
    assert not tokenizer.strip_accents
    lower = tokenizer.tokenize_tf(["the"]).to_list()
    upper = tokenizer.tokenize_tf(["THE"]).to_list()
    assert lower != upper


def test_runs_inside_tf_data(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2).map(tokenizer)
    batches = [b.to_list() for b in ds]
    assert sum(batches, []) == tokenizer.tokenize_tf(TEXTS).to_list()


def test_eager_call_on_every_backend(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    single = tokenizer("the quick fox")
    assert keras.ops.convert_to_numpy(single).ndim == 1
    batch = tokenizer(["the", "quick fox"])
    lengths = [len(row) for row in (
        batch.to_list() if hasattr(batch, "to_list") else batch)]
    assert lengths[0] < lengths[1]


def test_detokenize_roundtrip(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ids = tokenizer.tokenize_tf(["the quick brown fox"])
    assert tokenizer.detokenize(ids).numpy().tolist() == [
        b"the quick brown fox"]


def test_config_and_assets_roundtrip(spm_path, tmp_path):
    tokenizer = AlbertTokenizer(proto=spm_path, lowercase=False)
    tokenizer.save_assets(str(tmp_path))
    clone = AlbertTokenizer.from_config(tokenizer.get_config())
    clone.load_assets(str(tmp_path))
    assert clone.lowercase is False
    assert clone.tokenize_tf(TEXTS).to_list() == tokenizer.tokenize_tf(
        TEXTS).to_list()


def test_model_without_specials_is_rejected(tmp_path):
    import sentencepiece as spm

    prefix = str(tmp_path / "plain")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["hello world", "plain model"] * 50),
        model_prefix=prefix, vocab_size=20, hard_vocab_limit=False,
        minloglevel=2,
    )
    with pytest.raises(ValueError, match=r"lacks ALBERT's special tokens"):
        AlbertTokenizer(proto=prefix + ".model")
    with pytest.raises(ValueError, match="not found"):
        AlbertTokenizer(proto=str(tmp_path / "missing.model"))
    with pytest.raises(ValueError, match="Not a valid SentencePiece"):
        AlbertTokenizer(proto=b"garbage bytes")
