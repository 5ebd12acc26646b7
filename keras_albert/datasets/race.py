"""Reads RACE (ReAding Comprehension from Examinations) multiple-choice data.

RACE (Lai et al., 2017) is distributed as a directory tree
(`RACE/{train,dev,test}/{middle,high}/*.txt`) where every `.txt` file holds
one JSON object: an article with its questions,

```
{"article": "...", "questions": ["...", ...],
 "options": [["...", "...", "...", "..."], ...],
 "answers": ["A", ...], "id": "high1234.txt"}
```
"""

import json
import os

import numpy as np

from keras_albert.datasets.text_files import DataFileError
from keras_albert.datasets.text_files import read_text
from keras_albert.datasets.text_files import split_lines

_FIELDS = ("article", "questions", "options", "answers")


def _fail(where, problem):
    raise DataFileError(f"{where}: {problem}")


def _check_document(doc, where):
    """Validates one RACE object; returns `(article, questions, options,
    answer_indexes)`."""
    if not isinstance(doc, dict):
        _fail(where, f"expected a JSON object, found {type(doc).__name__}.")
    missing = [k for k in _FIELDS if k not in doc]
    if missing:
        _fail(where, f"missing field(s) {missing}; a RACE object needs "
                     f"{list(_FIELDS)}.")
    article, questions = doc["article"], doc["questions"]
    options, answers = doc["options"], doc["answers"]
    if not isinstance(article, str):
        _fail(where, "`article` must be a string.")
    for name, value in (("questions", questions), ("options", options),
                        ("answers", answers)):
        if not isinstance(value, list):
            _fail(where, f"`{name}` must be a list, found "
                         f"{type(value).__name__}.")
    if not len(questions) == len(options) == len(answers):
        _fail(where, f"{len(questions)} questions, {len(options)} option "
                     f"lists and {len(answers)} answers; they must match.")
    indexes = []
    for q, (question, choices, answer) in enumerate(
        zip(questions, options, answers)
    ):
        if not isinstance(question, str):
            _fail(where, f"question {q} is not a string.")
        if not isinstance(choices, list) or not choices or not all(
            isinstance(c, str) for c in choices
        ):
            _fail(where, f"options of question {q} must be a non-empty list "
                         "of strings.")
        letters = "".join(chr(ord("A") + i) for i in range(len(choices)))
        if not isinstance(answer, str) or len(answer) != 1 or (
            answer not in letters
        ):
            _fail(where, f"answer {answer!r} of question {q} is out of range:"
                         f" it has {len(choices)} options "
                         f"({letters[0]}-{letters[-1]}).")
        indexes.append(letters.index(answer))
    return article, questions, options, indexes


def _documents_of_file(path):
    """`[(where, fallback_id, object)]` of a `.txt`/`.json` file (one
    object) or a JSONL file (one object per line)."""
    text = read_text(path)
    name = os.path.basename(path)
    try:
        return [(path, name, json.loads(text))]
    except json.JSONDecodeError as whole_error:
        lines = [(n, line) for n, line in enumerate(split_lines(text), 1)
                 if line.strip()]
        if len(lines) < 2:
            _fail(path, f"not valid JSON ({whole_error}).")
        docs = []
        for n, line in lines:
            try:
                docs.append(
                    (f"{path}, line {n}", f"{name}:{n}", json.loads(line))
                )
            except json.JSONDecodeError as e:
                _fail(f"{path}, line {n}", f"not valid JSON ({e}); expected "
                      "one RACE object per line (JSONL).")
        return docs


def _race_files(directory):
    files = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files.extend(os.path.join(root, n) for n in sorted(names)
                     if n.endswith(".txt"))
    return files


def load_race(path):
    """Loads RACE-format multiple-choice data, one entry per question.

    Args:
        path: a directory (searched recursively for `.txt` files, each one
            RACE JSON object, e.g. `RACE/train` or `RACE/dev/high`), a
            single such file, or a JSONL file with one object per line.

    Returns:
        `(x, y)`: `x` is a dict of lists, `"article"`, `"question"`,
        `"options"` (a list of option strings per question) and `"id"`
        (`"<object id>-<question index>"`, the object id falling back to
        the file name, plus `:<line>` for JSONL); `y` is an int32 numpy
        array of answer indexes (`"A"` -> 0, `"B"` -> 1, ...). `x` feeds
        `AlbertMultipleChoice.fit`/`predict` and
        `AlbertMultipleChoicePreprocessor` directly.

    Raises:
        DataFileError: naming the file (and line, for JSONL) and the problem,
            for invalid JSON, missing fields, mismatched question/option/
            answer counts, answer letters out of range, or questions with a
            different number of options than the rest.
        FileNotFoundError: when `path` does not exist.

    Example:
    ```python
    x, y = keras_albert.datasets.load_race("RACE/dev")
    x["question"][0], x["options"][0], y[0]
    ```
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        files = _race_files(path)
        if not files:
            raise DataFileError(f"{path}: no RACE `.txt` files under it.")
        docs = [doc for file in files for doc in _documents_of_file(file)]
    elif os.path.isfile(path):
        docs = _documents_of_file(path)
    else:
        raise FileNotFoundError(f"No such file or directory: {path!r}.")

    x = {"article": [], "question": [], "options": [], "id": []}
    y = []
    num_options = None
    for where, fallback_id, doc in docs:
        article, questions, options, answers = _check_document(doc, where)
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            doc_id = fallback_id
        for q, (question, choices, answer) in enumerate(
            zip(questions, options, answers)
        ):
            if num_options is None:
                num_options = len(choices)
            elif len(choices) != num_options:
                _fail(where, f"question {q} has {len(choices)} options, "
                             f"earlier questions have {num_options}; a data "
                             "set must have one option count.")
            x["article"].append(article)
            x["question"].append(question)
            x["options"].append(list(choices))
            x["id"].append(f"{doc_id}-{q}")
            y.append(answer)
    return x, np.asarray(y, dtype="int32")
