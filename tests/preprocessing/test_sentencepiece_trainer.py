"""train_sentencepiece: ALBERT ids, files or iterables, determinism."""

import sentencepiece as spm

from keras_albert import train_sentencepiece
from tests.conftest import TINY_CORPUS


def test_trains_from_files_with_albert_specials(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TINY_CORPUS), encoding="utf-8")
    out = train_sentencepiece([str(corpus)], tmp_path / "a.model",
                              vocabulary_size=100)
    processor = spm.SentencePieceProcessor(model_file=str(out))
    assert [processor.IdToPiece(i) for i in range(5)] == [
        "<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    # Control symbols are never produced from text.
    assert 4 not in processor.encode("[MASK] the fox")
    assert processor.GetPieceSize() <= 100


def test_deterministic_and_lowercased(tmp_path):
    a = train_sentencepiece(TINY_CORPUS, tmp_path / "a.model",
                            vocabulary_size=120)
    b = train_sentencepiece(TINY_CORPUS, tmp_path / "b.model",
                            vocabulary_size=120)
    # The files embed their own path; the vocabularies must be identical.
    pa = spm.SentencePieceProcessor(model_file=str(a))
    pb = spm.SentencePieceProcessor(model_file=str(b))
    size = pa.GetPieceSize()
    assert size == pb.GetPieceSize()
    assert [(pa.IdToPiece(i), pa.GetScore(i)) for i in range(size)] == [
        (pb.IdToPiece(i), pb.GetScore(i)) for i in range(size)]
    pieces = [pa.IdToPiece(i) for i in range(5, size)]
    assert not any(p.isupper() for p in pieces)
