"""The official SQuAD v1.1/v2.0 metrics on hand-checked examples."""

import math

import pytest

from keras_albert.metrics.squad import best_threshold_scores
from keras_albert.metrics.squad import exact_match_score
from keras_albert.metrics.squad import f1_score
from keras_albert.metrics.squad import normalize_answer
from keras_albert.metrics.squad import squad_scores


@pytest.mark.parametrize(
    "text,expected",
    [
        # punctuation goes (the hyphen too), then "the", then spaces
        ("The  Quick, Brown-Fox!", "quick brownfox"),
        ("An apple a day", "apple day"),
        # articles only as whole words
        ("theatre anthem Thea", "theatre anthem thea"),
        ("  A\tcafé  ", "café"),
        ("Dr. A.B. Smith", "dr ab smith"),
        ("the", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match():
    assert exact_match_score("the Eiffel Tower.", ["Eiffel Tower"]) == 1.0
    assert exact_match_score("Eiffel", ["Eiffel Tower"]) == 0.0
    # The best gold answer counts; dicts as `load_squad` returns work too.
    assert exact_match_score(
        "Paris", ["France", {"text": "paris!", "answer_start": 3}]) == 1.0


def test_f1_by_hand():
    # pred tokens [in, city, of, paris], gold [paris, france]: 1 shared.
    # P = 1/4, R = 1/2, F1 = 2 * (1/8) / (3/4) = 1/3.
    assert f1_score("in the city of Paris", ["Paris, France"]) == (
        pytest.approx(1 / 3))
    # Shared tokens count with multiplicity: [x, y, y] vs [y, y, y, z]
    # share y twice. P = 2/3, R = 2/4, F1 = 2 * (1/3) / (7/6) = 4/7.
    assert f1_score("x y y", ["y y y z"]) == pytest.approx(4 / 7)
    # Max over golds: against [x, y] both x and y match once.
    # P = 2/3, R = 1, F1 = 2 * (2/3) / (5/3) = 4/5.
    assert f1_score("x y y", ["y y y z", "x y"]) == pytest.approx(0.8)
    assert f1_score("London", ["Paris"]) == 0.0


def test_no_answer_questions():
    # SQuAD 2.0: no gold answer means only "" is right.
    assert exact_match_score("", []) == 1.0
    assert f1_score("", []) == 1.0
    assert exact_match_score("Paris", []) == 0.0
    assert f1_score("Paris", []) == 0.0
    assert f1_score("", ["Paris"]) == 0.0
    # Gold answers that normalize to nothing are dropped: scored as "".
    assert exact_match_score("", ["the", "."]) == 1.0
    assert f1_score("an", ["the"]) == 1.0
    assert f1_score("Paris", ["the"]) == 0.0


def test_squad_v1_scores():
    predictions = {"q1": "the Eiffel Tower", "q2": "in the city of Paris",
                   "q3": "London"}
    references = {
        "q1": ["Eiffel Tower"],
        "q2": [{"text": "Paris, France", "answer_start": 0}],
        "q3": ["Rome"],
    }
    scores = squad_scores(predictions, references)
    assert set(scores) == {"exact_match", "f1", "total"}
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * (1 + 1 / 3 + 0) / 3)
    assert scores["total"] == 3
    # Lists are matched by position.
    assert squad_scores(list(predictions.values()),
                        list(references.values())) == scores


def test_squad_v2_scores_and_best_threshold():
    references = {"a": ["Paris"], "b": ["blue whale"], "c": [], "d": []}
    # What was answered, and the best span of each question.
    answered = {"a": "Paris", "b": "whale", "c": "something", "d": ""}
    spans = {"a": "Paris", "b": "whale", "c": "something", "d": "other"}
    no_answer = {"a": -2.0, "b": 0.5, "c": 1.0, "d": 3.0}

    scores = squad_scores(answered, references)
    # exact: a 1, b 0, c 0, d 1. F1 of "whale" vs "blue whale": P 1, R 1/2,
    # F1 2/3.
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0 + 1) / 4)
    assert scores["HasAns_exact"] == pytest.approx(50.0)
    assert scores["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert scores["NoAns_exact"] == scores["NoAns_f1"] == pytest.approx(50)
    assert scores["HasAns_total"] == scores["NoAns_total"] == 2

    # Answering questions in order of rising no-answer score:
    #   none:      exact 2 (c, d),  F1 2
    #   a (-2.0):  exact 3,         F1 3
    #   b (0.5):   exact 3,         F1 3 + 2/3
    #   c (1.0):   exact 2,         F1 2 + 2/3
    #   d (3.0):   exact 1,         F1 1 + 2/3
    best = best_threshold_scores(spans, references, no_answer)
    assert best["best_exact"] == pytest.approx(75.0)
    assert best["best_exact_thresh"] == -2.0
    assert best["best_f1"] == pytest.approx(100 * (3 + 2 / 3) / 4)
    assert best["best_f1_thresh"] == 0.5
    with_search = squad_scores(spans, references, no_answer)
    assert with_search["best_f1"] == pytest.approx(best["best_f1"])


def test_threshold_search_moves_equal_scores_together():
    references = {"e": ["Oslo"], "f": []}
    spans = {"e": "Oslo", "f": "Bergen"}
    # No threshold answers e but not f: answering both gains 1 and loses 1.
    best = best_threshold_scores(spans, references, {"e": 1.0, "f": 1.0})
    assert best["best_exact"] == pytest.approx(50.0)
    assert best["best_exact_thresh"] == -math.inf
    separated = best_threshold_scores(spans, references,
                                      {"e": 0.5, "f": 1.0})
    assert separated["best_exact"] == pytest.approx(100.0)
    assert separated["best_exact_thresh"] == 0.5


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"ids \['q2'\]"):
        squad_scores({"q1": "a"}, {"q1": ["a"], "q2": ["b"]})
    with pytest.raises(ValueError, match="2 predictions for 1 questions"):
        squad_scores(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="answer string"):
        squad_scores([None], [["a"]])
    with pytest.raises(ValueError, match="not a single string"):
        squad_scores(["a"], ["a"])
    with pytest.raises(ValueError, match="No questions"):
        squad_scores({}, {})
    with pytest.raises(ValueError, match="NaN"):
        best_threshold_scores(["a"], [[]], [float("nan")])
