"""train_sentencepiece: ALBERT ids, files or iterables, normalisation."""

import pathlib

import pytest
import sentencepiece as spm

from keras_albert import train_sentencepiece
from tests.conftest import TINY_CORPUS

SPECIALS = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]


def _pieces(path):
    processor = spm.SentencePieceProcessor(model_file=str(path))
    return processor, [
        processor.IdToPiece(i) for i in range(processor.GetPieceSize())
    ]


def test_albert_special_ids_and_control_symbols(spm_path):
    processor, pieces = _pieces(spm_path)
    assert pieces[:5] == SPECIALS
    assert processor.pad_id() == 0 and processor.unk_id() == 1
    assert processor.bos_id() == -1 and processor.eos_id() == -1
    for i in (2, 3, 4):
        assert processor.IsControl(i)
    # Control symbols are never produced from text.
    ids = processor.encode("[CLS] the fox [SEP] [MASK]")
    assert not {0, 2, 3, 4} & set(ids)
    assert len(pieces) <= 160


def test_trains_from_files_streamed(tmp_path):
    first = tmp_path / "a.txt"
    second = tmp_path / "b.txt"
    first.write_text("\n".join(TINY_CORPUS[:6]) + "\n\n", encoding="utf-8")
    second.write_text("\n".join(TINY_CORPUS[6:]), encoding="utf-8")
    # Path objects and plain strings are both taken as files.
    out = train_sentencepiece([first, str(second)], tmp_path / "f.model",
                              vocabulary_size=100)
    assert out == str(tmp_path / "f.model")
    assert (tmp_path / "f.vocab").is_file()
    _, pieces = _pieces(out)
    assert pieces[:5] == SPECIALS
    assert len(pieces) <= 100
    # A single path works too.
    out = train_sentencepiece(first, tmp_path / "single.model",
                              vocabulary_size=60)
    assert _pieces(out)[1][:5] == SPECIALS


def test_trains_from_a_generator_and_is_deterministic(tmp_path):
    a = train_sentencepiece((t for t in TINY_CORPUS), tmp_path / "a.model",
                            vocabulary_size=120)
    b = train_sentencepiece(list(TINY_CORPUS), tmp_path / "b" / "b.model",
                            vocabulary_size=120)
    pa, _ = _pieces(a)
    pb, _ = _pieces(b)
    # The model embeds its own output path, so compare pieces and scores.
    size = pa.GetPieceSize()
    assert size == pb.GetPieceSize()
    assert [(pa.IdToPiece(i), pa.GetScore(i)) for i in range(size)] == [
        (pb.IdToPiece(i), pb.GetScore(i)) for i in range(size)]


def test_normalises_like_the_tokenizer(tmp_path):
    corpus = ["CAFÉ  Naïve ``Résumé''"] * 30 + TINY_CORPUS[:60]
    out = train_sentencepiece(corpus, tmp_path / "n.model",
                              vocabulary_size=80)
    _, pieces = _pieces(out)
    text = "".join(pieces[5:])
    assert not any(c.isupper() for c in text)
    assert not set("éïÉ`") & set(text)

    cased = train_sentencepiece(corpus, tmp_path / "c.model",
                                vocabulary_size=80, lowercase=False)
    text = "".join(_pieces(cased)[1][5:])
    assert any(c.isupper() for c in text)
    assert "é" in text  # strip_accents follows lowercase


def test_rejects_bad_corpus_and_size(tmp_path):
    with pytest.raises(ValueError, match="vocabulary_size"):
        train_sentencepiece(TINY_CORPUS, tmp_path / "x.model",
                            vocabulary_size=5)
    with pytest.raises(ValueError, match="strings"):
        train_sentencepiece(["text", 3], tmp_path / "x.model",
                            vocabulary_size=50)
    with pytest.raises(FileNotFoundError):
        train_sentencepiece([pathlib.Path(tmp_path / "missing.txt")],
                            tmp_path / "x.model", vocabulary_size=50)
