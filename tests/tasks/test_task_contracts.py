"""Every task through the shared task contract
(`tests/test_case.py::run_task_test`): config, `.keras` and preset round
trips, one `fit` step and a prediction on the task's natural data, and
mixed precision (a separate test per task, so a precision bug does not hide
the other checks)."""

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertMultipleChoice
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertPretrainer
from keras_albert import AlbertQuestionAnswerer
from keras_albert import AlbertTokenClassifier
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing import (
    albert_token_classification_preprocessor as token_preprocessing,
)
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from tests.test_case import check_task_fit_and_predict
from tests.test_case import check_task_precision
from tests.test_case import run_task_test

AlbertTokenClassificationPreprocessor = (
    token_preprocessing.AlbertTokenClassificationPreprocessor)

VOCABULARY = 160
# The fit step keeps each task's default loss and metrics ("auto") but
# trains with SGD: tracing the default AdamW step costs several seconds a
# task, and the optimizer is no part of a task's contract.
COMPILE = {"optimizer": "sgd"}
TOKENS = {
    "token_ids": np.array([[2, 15, 16, 17, 3, 40, 3, 0],
                           [2, 99, 3, 0, 0, 0, 0, 0]], "int32"),
    "segment_ids": np.array([[0, 0, 0, 0, 0, 1, 1, 0],
                             [0, 0, 0, 0, 0, 0, 0, 0]], "int32"),
    "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 0],
                              [1, 1, 1, 0, 0, 0, 0, 0]], "int32"),
}
MASKED = dict(TOKENS, mask_positions=np.array([[1, 3, 5], [1, 0, 0]],
                                              "int32"))
# Multiple choice: (batch, num_choices=3, length); every option its row.
CHOICE_TOKENS = {
    key: np.stack([value, value[::-1], value]).transpose(1, 0, 2)
    for key, value in TOKENS.items()
}

TEXTS = ["this film was wonderful", "that film was terrible",
         "the quick brown fox"]
PAIRS = (["the fox", "a dog", "the film"],
         ["jumps over the dog", "sleeps", "was great"])
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = [["Ada", "Lovelace", "went", "to", "London"],
             ["the", "dog", "sleeps"]]
TAGS = [["B-PER", "I-PER", "O", "O", "B-LOC"], ["O", "O", "O"]]
SQUAD = {"question": ["What jumps?", "Who is lazy?"],
         "context": ["The quick brown fox jumps.", "The dog is lazy."]}
ANSWERS = [[{"text": "fox", "answer_start": 16}],
           [{"text": "dog", "answer_start": 4}]]
RACE = {
    "article": ["Tom went to the market to buy apples.",
                "The dog sleeps all day."],
    "question": ["Tom bought _ .", "What does the dog do?"],
    "options": [["apples", "pears", "a car"],
                ["sleeps", "runs", "barks"]],
}


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


@pytest.fixture
def backbone(tiny_config):
    return AlbertBackbone(**tiny_config)


def _mlm_targets(x, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(5, VOCABULARY, size=x["mask_positions"].shape)


def _shape(expected):
    def check(prediction):
        shape = np.shape(keras.ops.convert_to_numpy(prediction))
        assert shape == expected, f"prediction shape {shape} != {expected}"
    return check


def _task_cases(tokenizer):
    """`name -> (cls, extra init kwargs, token inputs, output shape, fit
    data, predict data, predict method, prediction check)`."""
    word_logits_shapes = [(len(s), len(LABELS)) for s in SENTENCES]

    def check_word_logits(prediction):
        assert [np.shape(p) for p in prediction] == word_logits_shapes

    def check_answers(answers):
        assert len(answers) == len(SQUAD["question"])
        for answer, context in zip(answers, SQUAD["context"]):
            assert context[answer["start"]:answer["end"]] == answer["text"]

    def check_choices(choices):
        assert np.shape(choices) == (2,)
        assert set(np.asarray(choices).tolist()) <= {0, 1, 2}

    masked_data = (MASKED, _mlm_targets(MASKED))
    return {
        "masked_lm": (
            AlbertMaskedLM, {}, MASKED, (2, 3, VOCABULARY),
            masked_data, MASKED, "predict", _shape((2, 3, VOCABULARY)),
        ),
        "pretrainer": (
            AlbertPretrainer, {"sop_dropout": 0.2}, MASKED,
            {"mlm": (2, 3, VOCABULARY), "sop": (2, 2)},
            (MASKED, {"mlm": masked_data[1],
                      "sop": np.array([0, 1], "int32")}),
            MASKED, "predict", None,
        ),
        "classifier": (
            AlbertClassifier,
            {"num_classes": 3, "dropout": 0.2,
             "preprocessor": AlbertPreprocessor(tokenizer,
                                                sequence_length=16)},
            TOKENS, (2, 3),
            (TEXTS, np.array([0, 1, 2])), TEXTS, "predict",
            _shape((3, 3)),
        ),
        "regressor": (
            AlbertClassifier,
            {"num_classes": 1, "dropout": 0.0,
             "preprocessor": AlbertPreprocessor(tokenizer,
                                                sequence_length=16)},
            TOKENS, (2, 1),
            (TEXTS, np.array([0.5, 4.0, 2.5], "float32")), TEXTS,
            "predict", _shape((3, 1)),
        ),
        "token_classifier": (
            AlbertTokenClassifier,
            {"labels": LABELS, "dropout": 0.2,
             "preprocessor": AlbertTokenClassificationPreprocessor(
                 tokenizer, sequence_length=32)},
            TOKENS, (2, 8, len(LABELS)),
            (SENTENCES, TAGS), SENTENCES, "predict", check_word_logits,
        ),
        "question_answerer": (
            AlbertQuestionAnswerer,
            {"dropout": 0.2,
             "preprocessor": AlbertQuestionAnsweringPreprocessor(
                 tokenizer, sequence_length=32, max_question_length=8)},
            TOKENS, {"start_logits": (2, 8), "end_logits": (2, 8)},
            (SQUAD, ANSWERS), SQUAD, "predict_answers", check_answers,
        ),
        "multiple_choice": (
            AlbertMultipleChoice,
            {"num_choices": 3, "dropout": 0.2,
             "preprocessor": AlbertMultipleChoicePreprocessor(
                 tokenizer, sequence_length=32)},
            CHOICE_TOKENS, (2, 3),
            (RACE, np.array([0, 0])), RACE, "predict_choices",
            check_choices,
        ),
    }


CASES = ["masked_lm", "pretrainer", "classifier", "regressor",
         "token_classifier", "question_answerer", "multiple_choice"]


@pytest.mark.parametrize("case", CASES)
def test_task_contract(case, tokenizer, backbone, tmp_path):
    (cls, kwargs, inputs, shape, fit_data, predict_data, method,
     check) = _task_cases(tokenizer)[case]
    run_task_test(
        cls, {"backbone": backbone, **kwargs}, inputs, shape,
        tmp_path=tmp_path, fit_data=fit_data, predict_data=predict_data,
        predict_method=method, check_prediction=check,
        compile_kwargs=COMPILE,
        run_saving_check=True,
        run_precision_check=False,
    )


def test_classifier_fits_and_predicts_text_pairs(tokenizer, backbone):
    model = AlbertClassifier(
        backbone, num_classes=2,
        preprocessor=AlbertPreprocessor(tokenizer, sequence_length=16),
    )
    check_task_fit_and_predict(
        model, (PAIRS, np.array([1, 0, 1])), PAIRS, "predict",
        _shape((3, 2)), compile_kwargs=COMPILE,
    )


@pytest.mark.parametrize("case", CASES)
def test_task_mixed_precision(case, tokenizer, backbone):
    cls, kwargs, inputs, *_ = _task_cases(tokenizer)[case]
    check_task_precision(cls, {"backbone": backbone, **kwargs}, inputs)
