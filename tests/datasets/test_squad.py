"""load_squad: SQuAD v1.1 and v2.0 JSON written by the tests."""

import json
import logging

import pytest

from keras_albert.datasets.squad import is_squad_v2
from keras_albert.datasets.squad import load_squad

PARIS = "Paris is the capital of France. The Seine flows through Paris."
OSLO = "Oslo lies at the head of the Oslofjord."


def _write(tmp_path, data, name="squad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _v1():
    return {
        "version": "1.1",
        "data": [
            {"title": "France", "paragraphs": [{"context": PARIS, "qas": [
                {"id": "q1", "question": "What is the capital of France?",
                 "answers": [{"text": "Paris", "answer_start": 0}]},
                {"id": "q2", "question": "What flows through Paris?",
                 "answers": [
                     {"text": "The Seine", "answer_start": 32},
                     {"text": "Seine", "answer_start": 36},
                 ]},
            ]}]},
            {"title": "Norway", "paragraphs": [{"context": OSLO, "qas": [
                {"id": "q3", "question": "Where does Oslo lie?",
                 "answers": [{"text": "the head of the Oslofjord",
                              "answer_start": 13}]},
            ]}]},
        ],
    }


def test_v1(tmp_path):
    path = _write(tmp_path, _v1())
    x, y = load_squad(path)
    assert x["id"] == ["q1", "q2", "q3"]
    assert x["title"] == ["France", "France", "Norway"]
    assert x["context"] == [PARIS, PARIS, OSLO]
    assert x["question"][1] == "What flows through Paris?"
    assert y[0] == [{"text": "Paris", "answer_start": 0}]
    assert [a["text"] for a in y[1]] == ["The Seine", "Seine"]
    for context, answers in zip(x["context"], y):
        for a in answers:
            start = a["answer_start"]
            assert context[start:start + len(a["text"])] == a["text"]
    assert not is_squad_v2(path)


def test_v2_impossible_questions(tmp_path):
    data = _v1()
    data["version"] = "v2.0"
    qas = data["data"][1]["paragraphs"][0]["qas"]
    qas[0]["is_impossible"] = False
    qas.append({
        "id": "q4", "question": "What is the capital of Sweden?",
        "answers": [], "is_impossible": True,
        "plausible_answers": [{"text": "Oslo", "answer_start": 0}],
    })
    path = _write(tmp_path, data)
    x, y = load_squad(path)
    assert x["id"] == ["q1", "q2", "q3", "q4"]
    assert y[3] == []  # plausible answers are not answers
    assert y[2][0]["text"] == "the head of the Oslofjord"
    assert is_squad_v2(path)


def test_misplaced_answer_raises_or_is_skipped(tmp_path, caplog):
    data = _v1()
    qas = data["data"][0]["paragraphs"][0]["qas"]
    qas[1]["answers"][0]["answer_start"] = 30  # "The Seine" is at 32
    qas.append({"id": "q-bad", "question": "Which river?",
                "answers": [{"text": "Seine", "answer_start": 0}]})
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match="'q2'.*answer_start=30"):
        load_squad(path)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        x, y = load_squad(path, strict=False)
    # q2 keeps its good answer; q-bad has none left and is dropped.
    assert x["id"] == ["q1", "q2", "q3"]
    assert y[1] == [{"text": "Seine", "answer_start": 36}]
    (report,) = [r.getMessage() for r in caplog.records]
    assert "skipped 2 answers" in report and "1 questions" in report


@pytest.mark.parametrize(
    "data,message",
    [
        ({"version": "1.1"}, "not a SQuAD file"),
        ({"data": [{"title": "t"}]}, "article 0 has no 'paragraphs'"),
        ({"data": [{"paragraphs": [{"context": "c", "qas": [
            {"id": "a", "question": "q", "answers": []},
            {"id": "a", "question": "q", "answers": []}]}]}]},
         "'a' appears twice"),
        ({"data": [{"paragraphs": [{"context": "c", "qas": [
            {"id": "a", "question": "q", "is_impossible": True,
             "answers": [{"text": "c", "answer_start": 0}]}]}]}]},
         "is_impossible but has 1 answers"),
        ({"data": [{"paragraphs": [{"context": "c", "qas": [
            {"id": "a", "question": "q",
             "answers": [{"text": "c", "answer_start": "0"}]}]}]}]},
         "integer 'answer_start'"),
    ],
)
def test_malformed_files(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        load_squad(_write(tmp_path, data))


def test_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_squad(str(path))
