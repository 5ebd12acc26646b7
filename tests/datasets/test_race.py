"""load_race: RACE directory trees, single files, JSONL and bad input."""

import json
import os

import numpy as np
import pytest

from keras_albert.datasets.race import load_race

FOX = {
    "article": "The fox jumps over the lazy dog.",
    "questions": ["Who jumps?", "The dog is _ ."],
    "options": [["a cat", "the fox", "a bird", "the dog"],
                ["lazy", "fast", "red", "loud"]],
    "answers": ["B", "A"],
    "id": "middle1.txt",
}
FILM = {
    "article": "This film was wonderful.",
    "questions": ["How was the film?"],
    "options": [["boring", "sad", "long", "wonderful"]],
    "answers": ["D"],
    "id": "high7.txt",
}


def _write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def test_directory_tree_of_race_files(tmp_path):
    _write(tmp_path / "train" / "middle" / "1.txt", FOX)
    _write(tmp_path / "train" / "high" / "7.txt", FILM)
    _write(tmp_path / "train" / "README.md", "not a RACE file")
    x, y = load_race(str(tmp_path / "train"))
    assert sorted(x) == ["article", "id", "options", "question"]
    assert all(len(v) == 3 for v in x.values())
    by_id = {i: n for n, i in enumerate(x["id"])}
    assert set(by_id) == {"middle1.txt-0", "middle1.txt-1", "high7.txt-0"}
    first = by_id["middle1.txt-0"]
    assert x["article"][first] == FOX["article"]
    assert x["question"][first] == "Who jumps?"
    assert x["options"][first] == FOX["options"][0]
    # "A".."D" -> 0..3.
    assert y.dtype == np.int32
    assert y[first] == 1
    assert y[by_id["middle1.txt-1"]] == 0
    assert y[by_id["high7.txt-0"]] == 3


def test_single_file_and_jsonl(tmp_path):
    x, y = load_race(_write(tmp_path / "one.txt", FOX))
    assert x["question"] == FOX["questions"] and y.tolist() == [1, 0]

    no_id = dict(FILM)
    no_id.pop("id")
    jsonl = "\n".join(json.dumps(d) for d in (FOX, no_id)) + "\n\n"
    x, y = load_race(_write(tmp_path / "data.jsonl", jsonl))
    assert y.tolist() == [1, 0, 3]
    assert x["article"] == [FOX["article"]] * 2 + [FILM["article"]]
    # Without an id, the file name and line stand in.
    assert x["id"] == ["middle1.txt-0", "middle1.txt-1", "data.jsonl:2-0"]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(answers=["E", "A"]),
         r"answer 'E' of question 0 is out of range: it has 4 options"),
        (dict(answers=["B"]), r"2 questions, 2 option lists and 1 answers"),
        (dict(options=[["a", "b", "c", "d"], ["a", "b", "c"]]),
         r"question 1 has 3 options, earlier questions have 4"),
        (dict(questions="Who jumps?"), r"`questions` must be a list"),
        (dict(options=[["a", "b", "c", "d"], []]),
         r"options of question 1 must be a non-empty list"),
    ],
)
def test_malformed_objects_are_named(tmp_path, change, message):
    path = _write(tmp_path / "bad.txt", dict(FOX, **change))
    with pytest.raises(ValueError, match=message) as info:
        load_race(path)
    assert "bad.txt" in str(info.value)


def test_malformed_files_are_named(tmp_path):
    missing = dict(FOX)
    missing.pop("answers")
    with pytest.raises(ValueError, match=r"missing field\(s\) \['answers'\]"):
        load_race(_write(tmp_path / "missing.txt", missing))
    with pytest.raises(ValueError, match=r"broken.txt: not valid JSON"):
        load_race(_write(tmp_path / "broken.txt", '{"article": '))
    lines = json.dumps(FOX) + "\n{oops\n"
    with pytest.raises(ValueError, match=r"lines.jsonl, line 2: not valid"):
        load_race(_write(tmp_path / "lines.jsonl", lines))
    # One option count per data set, across files too.
    five = dict(FILM, options=[["a", "b", "c", "d", "e"]], answers=["E"])
    _write(tmp_path / "mixed" / "a.txt", FOX)
    _write(tmp_path / "mixed" / "b.txt", five)
    with pytest.raises(ValueError, match=r"b.txt: question 0 has 5 options"):
        load_race(str(tmp_path / "mixed"))
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="no RACE"):
        load_race(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError):
        load_race(str(tmp_path / "nowhere"))
