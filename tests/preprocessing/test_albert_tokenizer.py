"""AlbertTokenizer: specials, normalisation oracles, tf.data, saving."""

import shutil

import keras
import numpy as np
import pytest
import sentencepiece as spm
import tensorflow as tf

from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.albert_tokenizer import normalize_text_graph
from keras_albert.preprocessing.albert_tokenizer import normalize_text_python

TEXTS = [
    "The Quick Brown FOX jumps.",
    "Café, NAÏVE and Résumé",
    "  extra   spaces\tand\nnew\r\nlines  ",
    "``Quoted'' words and ''more``",
    "wide\u3000space\u00a0nbsp\u2028line\u2009thin",
    "ÀÉÎÕÜ ç ñ Å ﬁ ① ß",
    "",
]
# Python's `str.split()` (Google's and HF's slow `preprocess_text`) also
# splits on ASCII separators such as \x1c; HF's Rust tokenizer does not, so
# this one is only checked against the Python rules.
PYTHON_ONLY = ["unit\x1fsep\x1cfile\x85nel\x0bvt"]


def _lists(ids):
    if isinstance(ids, tf.RaggedTensor):
        return ids.to_list()
    return [list(map(int, row)) for row in ids]


@pytest.fixture(scope="module")
def hf_tokenizer(spm_path, tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    # transformers 5 only ships the `tokenizers`-backed AlbertTokenizer;
    # `AlbertTokenizer(vocab_file=...)` ignores the file there (every id
    # comes out <unk>), while `from_pretrained` converts spiece.model.
    directory = tmp_path_factory.mktemp("hf_tok")
    shutil.copy(spm_path, directory / "spiece.model")
    return transformers.AlbertTokenizer.from_pretrained(
        str(directory), do_lower_case=True, keep_accents=False
    )


def test_special_ids_and_vocabulary(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    assert (
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.mask_token_id,
    ) == (0, 1, 2, 3, 4)
    vocab = tokenizer.get_vocabulary()
    assert vocab[:5] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    # The tiny corpus supports fewer than the 160 pieces asked for.
    processor = spm.SentencePieceProcessor(model_file=spm_path)
    assert tokenizer.vocabulary_size() == processor.GetPieceSize() <= 160
    assert tokenizer.token_to_id("[MASK]") == 4
    assert tokenizer.id_to_token(2) == "[CLS]"
    assert sorted(tokenizer.special_token_ids) == [0, 1, 2, 3, 4]


def test_matches_hugging_face_tokenizer(spm_path, hf_tokenizer):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ours = _lists(tokenizer(TEXTS))
    theirs = [hf_tokenizer.encode(t, add_special_tokens=False) for t in TEXTS]
    assert ours == theirs
    # The accents and case must actually matter for this to be a test.
    plain = spm.SentencePieceProcessor(model_file=spm_path)
    assert plain.encode(TEXTS[1]) != theirs[1]


def test_graph_and_python_normalisation_agree():
    got = [
        s.decode("utf-8")
        for s in normalize_text_graph(
            tf.constant(TEXTS + PYTHON_ONLY)
        ).numpy()
    ]
    assert got == [normalize_text_python(t) for t in TEXTS + PYTHON_ONLY]
    assert got[1] == "cafe, naive and resume"
    assert got[2] == "extra spaces and new lines"
    assert got[3] == '"quoted" words and "more"'
    assert got[4] == "wide space nbsp line thin"
    assert got[-1] == "unit sep file nel vt"
    cased = normalize_text_graph(
        tf.constant(TEXTS[1]), lowercase=False, strip_accents=False
    )
    assert cased.numpy().decode("utf-8") == TEXTS[1]


def test_python_workflow_matches_graph(spm_path):
    graph = AlbertTokenizer(proto=spm_path)
    python = AlbertTokenizer(proto=spm_path, _allow_python_workflow=True)
    assert _lists(python(TEXTS)) == _lists(graph(TEXTS))


def test_case_and_accent_options(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path, lowercase=False)
    assert tokenizer.strip_accents is False
    assert _lists(tokenizer(["the"])) != _lists(tokenizer(["THE"]))
    strip_only = AlbertTokenizer(proto=spm_path, lowercase=False,
                                 strip_accents=True)
    assert _lists(strip_only(["Café"])) == _lists(strip_only(["Cafe"]))


def test_runs_inside_tf_data(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(4).map(tokenizer)
    batches = [b.to_list() for b in ds]
    assert [len(b) for b in batches] == [4, 3]
    assert sum(batches, []) == tokenizer.tokenize_tf(TEXTS).to_list()


def test_eager_outputs_per_backend(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    single = tokenizer("the quick fox")
    assert keras.ops.is_tensor(single)
    assert keras.ops.convert_to_numpy(single).ndim == 1
    batch = tokenizer(["the", "quick fox"])
    lengths = [len(row) for row in _lists(batch)]
    assert lengths[0] < lengths[1]
    # `tokenize_tf` always stays in TensorFlow.
    assert isinstance(tokenizer.tokenize_tf(["the"]), tf.RaggedTensor)

    dense = AlbertTokenizer(proto=spm_path, sequence_length=12)
    out = keras.ops.convert_to_numpy(dense(["the fox", "a"]))
    assert out.shape == (2, 12) and out.dtype == np.int32
    assert out[1, -1] == 0  # padded with <pad>


def test_detokenize(spm_path):
    tokenizer = AlbertTokenizer(proto=spm_path)
    ids = tokenizer.tokenize_tf(["The quick brown FOX"])
    assert tokenizer.detokenize(ids) == ["the quick brown fox"]


def test_config_assets_and_constructors(spm_path, tmp_path):
    tokenizer = AlbertTokenizer(proto=spm_path, lowercase=False,
                                strip_accents=True)
    config = tokenizer.get_config()
    assert config["proto"] is None
    assert config["lowercase"] is False and config["strip_accents"] is True

    tokenizer.save_assets(str(tmp_path))
    assert (tmp_path / "spiece.model").read_bytes() == tokenizer.proto
    clone = AlbertTokenizer.from_config(config)
    clone.load_assets(str(tmp_path))
    assert _lists(clone(TEXTS)) == _lists(tokenizer(TEXTS))

    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tokenizer)
    )
    assert isinstance(restored, AlbertTokenizer)
    assert restored.lowercase is False

    from_dir = AlbertTokenizer.load_from_dir(str(tmp_path), lowercase=False)
    from_file = AlbertTokenizer.from_file(tmp_path / "spiece.model")
    assert from_dir.proto == from_file.proto == tokenizer.proto
    assert AlbertTokenizer(proto=tokenizer.proto).vocabulary_size() == (
        tokenizer.vocabulary_size())


def test_rejects_models_without_albert_specials(tmp_path):
    prefix = str(tmp_path / "plain")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["hello world", "plain model"] * 50),
        model_prefix=prefix, vocab_size=20, hard_vocab_limit=False,
        minloglevel=2,
    )
    # A default model has <unk> but none of the others.
    with pytest.raises(ValueError) as info:
        AlbertTokenizer(proto=prefix + ".model")
    message = str(info.value)
    assert "special tokens" in message
    for token in ("<pad>", "[CLS]", "[SEP]", "[MASK]"):
        assert token in message.split("tokens")[1].split("(")[0]
    assert "'<unk>']" not in message.split("(")[0]

    with pytest.raises(ValueError, match="not found"):
        AlbertTokenizer(proto=str(tmp_path / "missing.model"))
    with pytest.raises(ValueError, match="Not a valid SentencePiece"):
        AlbertTokenizer(proto=b"garbage bytes")
    # A failed `set_proto` leaves a working tokenizer untouched.
    tokenizer = AlbertTokenizer()
    with pytest.raises(ValueError):
        tokenizer.set_proto(prefix + ".model")
    assert tokenizer.proto is None
