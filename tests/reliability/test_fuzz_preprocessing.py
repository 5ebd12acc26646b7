"""Property-based fuzzing of the tokenizer and the preprocessors.

Any text (control characters, emoji, combining marks, invalid UTF-8
bytes, strings of a hundred thousand characters), any pair shapes and any
`sequence_length`: either well-formed model inputs or a `ValueError`;
never a crash, a hang or a raw TensorFlow error.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tests.reliability.fuzz_settings import examples

# Any code point but surrogates (not encodable as UTF-8).
CHARACTERS = st.characters(blacklist_categories=("Cs",))
SPECIAL = st.sampled_from(["", " ", "\x00", "\t\n\r", "\u200b", "\u2028",
                           "\ufeff", "e\u0301", "👍🏽", "🇫🇷", "[CLS]",
                           "<pad>", "▁", "ﬁ", "İ", "\U0010ffff"])
TEXT = st.one_of(
    st.text(CHARACTERS, max_size=40),
    SPECIAL,
    st.lists(st.one_of(SPECIAL, st.text(CHARACTERS, max_size=5)),
             max_size=8).map("".join),
)
# Very long strings: a short piece repeated up to 100k characters.
LONG_TEXT = st.builds(lambda piece, times: (piece * times)[:100_000],
                      st.text(CHARACTERS, min_size=1, max_size=12),
                      st.integers(1_000, 20_000))
ANY_TEXT = st.one_of(TEXT, TEXT, LONG_TEXT)
TEXT_BATCH = st.lists(ANY_TEXT, min_size=1, max_size=4)


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    from keras_albert import AlbertTokenizer

    return AlbertTokenizer(proto=spm_path)


def _numpy(packed):
    import keras

    return {k: keras.ops.convert_to_numpy(v) for k, v in packed.items()}


def _check_packed(packed, rows, sequence_length, tokenizer):
    token_ids = packed["token_ids"]
    assert token_ids.shape[0] == rows
    assert 2 <= token_ids.shape[1] <= sequence_length
    assert packed["segment_ids"].shape == token_ids.shape
    assert packed["padding_mask"].shape == token_ids.shape
    assert ((0 <= token_ids) & (token_ids < tokenizer.vocabulary_size())).all()
    assert (token_ids[:, 0] == tokenizer.cls_token_id).all()
    assert set(np.unique(packed["segment_ids"])) <= {0, 1}
    lengths = packed["padding_mask"].sum(axis=1)
    assert (lengths >= 2).all()
    # The last real token of every row is [SEP].
    last = token_ids[np.arange(rows), lengths - 1]
    assert (last == tokenizer.sep_token_id).all()


@settings(max_examples=examples(25))
@given(texts=TEXT_BATCH, sequence_length=st.integers(-2, 80))
def test_preprocessor_packs_any_text(tokenizer, texts, sequence_length):
    from keras_albert import AlbertPreprocessor

    try:
        preprocessor = AlbertPreprocessor(tokenizer,
                                          sequence_length=sequence_length)
    except ValueError as e:
        assert sequence_length < 3 and "sequence_length" in str(e)
        return
    packed = _numpy(preprocessor(texts))
    _check_packed(packed, len(texts), sequence_length, tokenizer)


@settings(max_examples=examples(20))
@given(first=TEXT_BATCH, second=TEXT_BATCH,
       sequence_length=st.integers(3, 40),
       truncate=st.sampled_from(["round_robin", "waterfall"]))
def test_preprocessor_packs_any_pair(tokenizer, first, second,
                                     sequence_length, truncate):
    from keras_albert import AlbertPreprocessor

    preprocessor = AlbertPreprocessor(tokenizer,
                                      sequence_length=sequence_length,
                                      truncate=truncate)
    if len(first) != len(second):
        with pytest.raises(ValueError, match="as many first texts"):
            preprocessor((first, second))
        return
    packed = _numpy(preprocessor((first, second)))
    _check_packed(packed, len(first), sequence_length, tokenizer)


@settings(max_examples=examples(15))
@given(data=st.lists(st.binary(max_size=30), min_size=1, max_size=4))
def test_preprocessor_takes_any_bytes(tokenizer, data):
    """Invalid UTF-8 is replaced (U+FFFD), as in exported models."""
    from keras_albert import AlbertPreprocessor

    preprocessor = AlbertPreprocessor(tokenizer, sequence_length=16)
    packed = _numpy(preprocessor(data))
    _check_packed(packed, len(data), 16, tokenizer)


@settings(max_examples=examples(20))
@given(text=ANY_TEXT)
def test_tokenizer_round_trip_never_fails(tokenizer, text):
    import keras

    ids = keras.ops.convert_to_numpy(tokenizer([text]))
    flat = np.concatenate([np.ravel(row) for row in ids]) if len(ids) else ids
    assert ((0 <= flat) & (flat < tokenizer.vocabulary_size())).all()
    detokenized = tokenizer.detokenize(ids)
    assert np.asarray(detokenized).shape[0] == 1


WORDS = st.lists(st.text(CHARACTERS, min_size=1, max_size=8), max_size=12)


@settings(max_examples=examples(15))
@given(sentences=st.lists(st.one_of(WORDS, TEXT), min_size=1, max_size=3),
       sequence_length=st.integers(3, 24), data=st.data())
def test_token_classification_preprocessor_aligns_any_words(
        tokenizer, sentences, sequence_length, data):
    from keras_albert.preprocessing import (
        AlbertTokenClassificationPreprocessor,
    )

    preprocessor = AlbertTokenClassificationPreprocessor(
        tokenizer, sequence_length=sequence_length)
    try:
        encoded = preprocessor.encode_batch(sentences)
    except ValueError:
        return
    for sentence, item in zip(sentences, encoded):
        for window in item.windows:
            assert len(window["token_ids"]) <= sequence_length
        words = (sentence if isinstance(sentence, list)
                 else sentence.split())
        assert len(item.word_positions) == len(words)
    tags = [data.draw(st.lists(st.integers(0, 2),
                               min_size=len(e.word_positions),
                               max_size=len(e.word_positions)))
            for e in encoded]
    rows = [w for e in preprocessor.encode_batch(sentences, tags)
            for w in e.windows]
    if rows:
        x, label_ids, label_mask = preprocessor.pack(rows)
        assert label_ids.shape == x["token_ids"].shape == label_mask.shape


@settings(max_examples=examples(15))
@given(question=ANY_TEXT, context=ANY_TEXT,
       start=st.integers(-3, 200), answer=TEXT,
       sequence_length=st.integers(8, 48), stride=st.integers(1, 40))
def test_question_answering_preprocessor_windows_any_context(
        tokenizer, question, context, start, answer, sequence_length,
        stride):
    from keras_albert.preprocessing import (
        AlbertQuestionAnsweringPreprocessor,
    )

    try:
        preprocessor = AlbertQuestionAnsweringPreprocessor(
            tokenizer, sequence_length=sequence_length, doc_stride=stride)
        features = preprocessor.featurize(
            [question], [context[:2000]],
            [[{"text": answer, "answer_start": start}]])
    except ValueError:
        return
    for token_ids in features["token_ids"]:
        assert len(token_ids) <= sequence_length
    for s, e in zip(features["start_positions"], features["end_positions"]):
        assert 0 <= s <= e < sequence_length
