"""Every tokenizer and preprocessor through the shared preprocessor
contract (`tests/test_case.py::run_preprocessor_test`).

`AlbertTokenClassificationPreprocessor` and
`AlbertQuestionAnsweringPreprocessor` align words and characters in Python,
so they cannot run inside `Dataset.map`; their `tf.data` check is the
dataset each of them builds (`dataset`, `make_dataset`)."""

import numpy as np
import pytest

from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.preprocessing import (
    albert_token_classification_preprocessor as token_preprocessing,
)
from tests.test_case import run_preprocessor_test

AlbertTokenClassificationPreprocessor = (
    token_preprocessing.AlbertTokenClassificationPreprocessor)

TOKEN_DICT = ("token_ids", "segment_ids", "padding_mask")
TEXTS = ["The quick brown fox jumps over the lazy dog.", "Café résumé"]
LONG = ("Sentence order prediction asks whether two segments are swapped, "
        "and masked language modelling hides fifteen percent of tokens.")


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _token_dict(shape):
    return {key: (shape, "int32") for key in TOKEN_DICT}


@pytest.mark.parametrize("sequence_length", [None, 12])
def test_albert_tokenizer(spm_path, sequence_length, tmp_path):
    run_preprocessor_test(
        AlbertTokenizer,
        dict(proto=spm_path, lowercase=False, strip_accents=True,
             sequence_length=sequence_length),
        TEXTS,
        ((2, sequence_length), "int32"),
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("pairs", [False, True], ids=["single", "pairs"])
def test_albert_preprocessor(tokenizer, pairs, tmp_path):
    # The first example is the shorter one (padded in the batch).
    x = (TEXTS[::-1], ["a lite BERT", LONG]) if pairs else [TEXTS[1], LONG]
    run_preprocessor_test(
        AlbertPreprocessor,
        dict(tokenizer=tokenizer, sequence_length=20, truncate="waterfall",
             pad_to_multiple_of=4),
        x,
        _token_dict((2, 20)),
        tmp_path=tmp_path,
        labels=np.array([1, 0], "int32"),
    )


def test_albert_token_classification_preprocessor(tokenizer, tmp_path):
    sentences = ["Ada runs",
                 ["Ada", "Lovelace", "wrote", "the", "first", "program",
                  "for", "his", "analytical", "engine"]]
    run_preprocessor_test(
        AlbertTokenClassificationPreprocessor,
        dict(tokenizer=tokenizer, sequence_length=12, overlap=2,
             pad_to_multiple_of=4, length_buckets=[4, 8]),
        sentences,
        # Long sentences take several rows (windows): the row count
        # depends on the text.
        _token_dict((None, 12)),
        tmp_path=tmp_path,
        labels=[[1, 0], [1, 2, 0, 0, 0, 0, 0, 0, 0, 0]],
        make_dataset=lambda pre, x, y: pre.dataset(x, y, batch_size=64),
    )


def test_albert_question_answering_preprocessor(tokenizer, tmp_path):
    x = {"question": ["Is it?", "What does the fox do?"],
         "context": ["A dog.", LONG + " The quick brown fox jumps."]}
    answers = [[{"text": "dog", "answer_start": 2}],
               [{"text": "jumps", "answer_start": len(LONG) + 21}]]
    run_preprocessor_test(
        AlbertQuestionAnsweringPreprocessor,
        dict(tokenizer=tokenizer, sequence_length=24, doc_stride=6,
             max_question_length=6, pad_to_multiple_of=4),
        x,
        # The long context makes several windows (features).
        _token_dict((None, 24)),
        tmp_path=tmp_path,
        labels=answers,
        make_dataset=lambda pre, x, y: pre.make_dataset(
            pre.featurize(x["question"], x["context"], y), batch_size=64),
    )


def test_albert_multiple_choice_preprocessor(tokenizer, tmp_path):
    x = {"article": ["A dog.", LONG],
         "question": ["It _ .", "What does it hide?"],
         "options": [["sleeps", "runs", "barks"],
                     ["tokens", "segments", "nothing"]]}
    run_preprocessor_test(
        AlbertMultipleChoicePreprocessor,
        dict(tokenizer=tokenizer, sequence_length=24, truncate="round_robin",
             max_qa_length=8, pad_to_multiple_of=4, length_buckets=None),
        x,
        _token_dict((2, 3, 24)),
        tmp_path=tmp_path,
        labels=np.array([0, 0], "int32"),
    )
