"""Property-based fuzzing of the dataset readers.

Random bytes, and random but plausible files (JSON of any shape, CSV/TSV
rows of any text, CoNLL columns), into every `keras_albert.datasets.load_*`:
either a result of the documented form or a `DataFileError` naming the
file; never another exception, a crash or a hang.
"""

import json
import os
import tempfile

import numpy as np
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_albert.datasets import load_conll
from keras_albert.datasets import load_race
from keras_albert.datasets import load_squad
from keras_albert.datasets import load_text_classification
from keras_albert.datasets.text_files import DataFileError
from tests.reliability.fuzz_settings import examples

CHARACTERS = st.characters(blacklist_categories=("Cs",))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5)
    | st.floats(allow_nan=False) | st.text(CHARACTERS, max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(CHARACTERS, max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELD = st.one_of(
    st.text(CHARACTERS, max_size=10),
    st.sampled_from(["", "0", "1", "-1", "2.5", "nan", "null", "n/a", "A",
                     '"', '""', ",", "\t", "\ufeff", "label", "sentence"]),
)


def _read(loader, name, data):
    """`loader(path)` on a file `name` holding `data` (bytes), in a fresh
    temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            return loader(path)
        except DataFileError as e:
            assert path in str(e) or directory in str(e), str(e)
            return None


def _check_text_classification(result):
    if result is None:
        return
    x, y = result
    texts = x if isinstance(x, tuple) else (x,)
    for column in texts:
        assert all(isinstance(t, str) for t in column)
        assert len(column) == len(texts[0])
    if y is not None:
        assert len(y) == len(texts[0])
        assert np.isfinite(np.asarray(y, "float64")).all()


@settings(max_examples=examples(25))
@given(data=st.binary(max_size=300),
       name=st.sampled_from(["data.csv", "data.tsv", "data.jsonl"]))
def test_text_classification_reader_takes_any_bytes(data, name):
    _check_text_classification(_read(load_text_classification, name, data))


@settings(max_examples=examples(25))
@given(header=st.lists(FIELD, min_size=1, max_size=4),
       rows=st.lists(st.lists(FIELD, max_size=5), max_size=6),
       separator=st.sampled_from([",", "\t"]),
       regression=st.booleans(), data=st.data())
def test_text_classification_reader_takes_any_table(header, rows, separator,
                                                    regression, data):
    if data.draw(st.booleans()):
        header = ["sentence", "label"] + header
    lines = [separator.join(header)] + [separator.join(r) for r in rows]
    name = "data.csv" if separator == "," else "data.tsv"
    payload = "\n".join(lines).encode("utf-8")
    _check_text_classification(_read(
        lambda p: load_text_classification(p, regression=regression),
        name, payload))


@settings(max_examples=examples(20))
@given(lines=st.lists(JSON, max_size=5))
def test_text_classification_reader_takes_any_json_lines(lines):
    payload = "\n".join(json.dumps(v) for v in lines).encode("utf-8")
    _check_text_classification(_read(load_text_classification,
                                      "data.jsonl", payload))


def _check_conll(result):
    if result is None:
        return
    x, y = result
    assert len(x) == len(y)
    for words, tags in zip(x, y):
        assert len(words) == len(tags) > 0
        assert all(isinstance(w, str) and w for w in words)


@settings(max_examples=examples(25))
@given(data=st.binary(max_size=300))
def test_conll_reader_takes_any_bytes(data):
    _check_conll(_read(load_conll, "eng.train", data))


@settings(max_examples=examples(25))
@given(lines=st.lists(st.lists(st.text(CHARACTERS, max_size=6), max_size=4),
                      max_size=10),
       separator=st.sampled_from([" ", "\t", "  "]))
def test_conll_reader_takes_any_columns(lines, separator):
    payload = "\n".join(separator.join(cells) for cells in lines)
    _check_conll(_read(load_conll, "eng.train", payload.encode("utf-8")))


def _check_squad(result):
    if result is None:
        return
    x, y = result
    assert len(x["question"]) == len(x["context"]) == len(y)


@settings(max_examples=examples(25))
@given(data=st.binary(max_size=300))
def test_squad_reader_takes_any_bytes(data):
    _check_squad(_read(load_squad, "train.json", data))


SQUADISH = st.fixed_dictionaries({"data": st.lists(st.one_of(
    JSON,
    st.fixed_dictionaries({"paragraphs": st.lists(st.one_of(
        JSON,
        st.fixed_dictionaries({
            "context": st.one_of(st.text(CHARACTERS, max_size=20), JSON),
            "qas": st.lists(st.one_of(JSON, st.fixed_dictionaries({
                "question": st.one_of(st.text(CHARACTERS, max_size=8),
                                      JSON),
                "answers": st.one_of(JSON, st.lists(st.fixed_dictionaries({
                    "text": st.one_of(st.text(CHARACTERS, max_size=5),
                                      JSON),
                    "answer_start": st.one_of(st.integers(-2, 30), JSON),
                }), max_size=2)),
            }, optional={"id": JSON, "is_impossible": st.one_of(
                st.booleans(), JSON)})), max_size=3),
        })), max_size=2)}),
), max_size=2)})


@settings(max_examples=examples(30))
@given(document=SQUADISH)
def test_squad_reader_takes_any_json(document):
    _check_squad(_read(load_squad, "train.json",
                       json.dumps(document).encode("utf-8")))


def _check_race(result):
    if result is None:
        return
    x, y = result
    count = len(x["question"])
    assert len(x["article"]) == len(x["options"]) == len(y) == count
    for options, answer in zip(x["options"], y):
        assert 0 <= answer < len(options)


@settings(max_examples=examples(25))
@given(data=st.binary(max_size=300),
       name=st.sampled_from(["1.txt", "race.jsonl", "race.json"]))
def test_race_reader_takes_any_bytes(data, name):
    _check_race(_read(load_race, name, data))


RACEISH = st.fixed_dictionaries({
    "article": st.one_of(st.text(CHARACTERS, max_size=20), JSON),
    "questions": st.one_of(st.lists(st.text(CHARACTERS, max_size=8),
                                    max_size=3), JSON),
    "options": st.one_of(st.lists(st.lists(st.text(CHARACTERS, max_size=5),
                                           max_size=4), max_size=3), JSON),
    "answers": st.one_of(st.lists(st.sampled_from(["A", "B", "C", "D", "E",
                                                   "", "a", 0]),
                                  max_size=3), JSON),
}, optional={"id": JSON})


@settings(max_examples=examples(30))
@given(documents=st.lists(st.one_of(RACEISH, JSON), min_size=1, max_size=3),
       jsonl=st.booleans())
def test_race_reader_takes_any_json(documents, jsonl):
    if jsonl:
        name = "race.jsonl"
        payload = "\n".join(json.dumps(d) for d in documents)
    else:
        name = "1.txt"
        payload = json.dumps(documents[0])
    _check_race(_read(load_race, name, payload.encode("utf-8")))


def test_missing_files_and_directories():
    with tempfile.TemporaryDirectory() as directory:
        missing = os.path.join(directory, "nope.csv")
        for loader in (load_text_classification, load_conll, load_squad,
                       load_race):
            try:
                loader(missing)
            except (FileNotFoundError, DataFileError) as e:
                assert "nope.csv" in str(e)
            else:
                raise AssertionError(f"{loader.__name__} read a missing file")
        for loader in (load_text_classification, load_conll, load_squad):
            try:
                loader(directory)
            except DataFileError as e:
                assert directory in str(e)
            else:
                raise AssertionError(f"{loader.__name__} read a directory")
