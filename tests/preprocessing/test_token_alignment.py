"""Pieces aligned to words and characters of the original text."""

import keras
import numpy as np
import pytest

from keras_albert.preprocessing.albert_tokenizer import normalize_text_python
from keras_albert.preprocessing.token_alignment import TokenAligner
from keras_albert.preprocessing.token_alignment import normalize_with_origins
from keras_albert.preprocessing.token_alignment import split_words

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "  Café, naïve   and RÉSUMÉ\thave accents ",
    "He said ``hello'' to 1, 2 and 3 movies",
    "emoji \U0001F600 and ünknown ẞ letters",
    "",
    "   ",
]


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    from keras_albert import AlbertTokenizer

    return AlbertTokenizer(proto=spm_path)


def _tokenizer_ids(tokenizer, text):
    ids = tokenizer([text])
    ids = ids.to_list() if hasattr(ids, "to_list") else ids
    return [int(i) for i in np.asarray(ids[0]).ravel()] if len(ids[0]) else []


@pytest.mark.parametrize("text", TEXTS)
def test_normalization_matches_the_tokenizers(text):
    for lowercase, strip in ((True, True), (False, False), (True, False)):
        normalized, origins = normalize_with_origins(text, lowercase, strip)
        assert normalized == normalize_text_python(text, lowercase, strip)
        assert len(origins) == len(normalized)
        assert origins == sorted(origins)


def test_split_words_gives_character_spans():
    text = " ab  c\td\u00a0e "
    spans = split_words(text)
    assert [text[s:e] for s, e in spans] == text.split()


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_the_tokenizers_and_offsets_point_into_the_text(
        tokenizer, text):
    aligned = TokenAligner(tokenizer)(text)
    assert aligned.token_ids == _tokenizer_ids(tokenizer, text)
    assert len(aligned.offsets) == len(aligned.token_ids)
    for (start, end), piece_id, word in zip(
            aligned.offsets, aligned.token_ids, aligned.word_ids):
        span = text[start:end]
        piece = tokenizer.id_to_token(piece_id).lstrip("\u2581")
        ws, we = aligned.words[word]
        # Each piece lies inside its word...
        assert ws <= start <= end <= we, (text, span, piece)
        if piece_id != tokenizer.unk_token_id:
            # ...and normalises to exactly the piece's text.
            assert normalize_text_python(span) == piece, (span, piece)
    # Pieces cover every word, in order, without overlap.
    starts = [s for s, _ in aligned.offsets]
    assert starts == sorted(starts)
    assert sorted(set(aligned.word_ids)) == list(range(len(aligned.words)))


def test_first_pieces_of_words(tokenizer):
    text = "Tokenizers split words"
    aligned = TokenAligner(tokenizer)(text)
    first = aligned.first_pieces()
    assert len(first) == 3
    for w, i in enumerate(first):
        assert aligned.word_ids[i] == w
        assert i == 0 or aligned.word_ids[i - 1] == w - 1


def test_accent_marks_stay_with_their_letter(tokenizer):
    # "e" + combining acute: the mark normalises away but belongs to "e".
    text = "cafe\u0301 film"
    aligned = TokenAligner(tokenizer)(text)
    word_end = max(e for (s, e), w in zip(aligned.offsets, aligned.word_ids)
                   if w == 0)
    assert word_end == 5


def test_latex_quotes_map_to_both_characters(tokenizer):
    text = "say ``hi''"
    aligned = TokenAligner(tokenizer)(text)
    covered = "".join(text[s:e] for s, e in aligned.offsets)
    assert covered == "say``hi''"


def test_needs_a_loaded_model():
    from keras_albert import AlbertTokenizer

    with pytest.raises(ValueError, match="SentencePiece model"):
        TokenAligner(AlbertTokenizer())


def test_backend_is_irrelevant():
    # Pure Python: importing it must not need a particular Keras backend.
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")


def test_one_aligner_per_tokenizer_rebuilt_with_a_new_model(spm_path):
    from keras_albert import AlbertTokenizer
    from keras_albert.preprocessing.token_alignment import aligner_for

    tokenizer = AlbertTokenizer(proto=spm_path)
    first = aligner_for(tokenizer)
    assert aligner_for(tokenizer) is first
    tokenizer.set_proto(spm_path)  # a new model object
    assert aligner_for(tokenizer) is not first
    assert aligner_for(AlbertTokenizer(proto=spm_path)) is not first
