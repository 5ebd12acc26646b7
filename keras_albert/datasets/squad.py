"""Reads SQuAD v1.1 and v2.0 JSON files into questions, contexts, answers.

The official format:
```
{"version": "v2.0", "data": [{"title": ..., "paragraphs": [
    {"context": ..., "qas": [{"id": ..., "question": ...,
        "answers": [{"text": ..., "answer_start": int}, ...],
        "is_impossible": bool,           # v2.0 only
        "plausible_answers": [...]}]}]}]} # v2.0 only, ignored here
```
"""

import json
import logging

from keras_albert.datasets.text_files import DataFileError
from keras_albert.datasets.text_files import read_text

logger = logging.getLogger("keras_albert")


def _read(path):
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise DataFileError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataFileError(
            f"{path} is not a SQuAD file: expected a JSON object with a "
            "'data' list of articles."
        )
    return data


def _require(mapping, key, kind, where, path):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        raise DataFileError(
            f"{path}: {where} has no {key!r} {kind.__name__} (found "
            f"{type(value).__name__})."
        )
    return value


def _questions(data, path):
    """Yields `(title, context, qa)` for every question of the file."""
    for a, article in enumerate(data["data"]):
        where = f"article {a}"
        paragraphs = _require(article, "paragraphs", list, where, path)
        title = article.get("title", "") if isinstance(article, dict) else ""
        for p, paragraph in enumerate(paragraphs):
            where = f"article {a} paragraph {p}"
            context = _require(paragraph, "context", str, where, path)
            for qa in _require(paragraph, "qas", list, where, path):
                yield str(title), context, qa


def is_squad_v2(path):
    """True when the SQuAD file at `path` has unanswerable questions
    (`is_impossible`), i.e. must be decoded and scored as SQuAD 2.0."""
    data = _read(path)
    return any(
        isinstance(qa, dict) and bool(qa.get("is_impossible", False))
        for _, _, qa in _questions(data, path)
    )


def load_squad(path, strict=True):
    """Loads a SQuAD v1.1 or v2.0 JSON file.

    Every answer is checked against its context:
    `context[answer_start:answer_start + len(text)] == text`.

    Args:
        path: the JSON file (e.g. `train-v2.0.json`).
        strict: bool. Raise on an answer that is not where `answer_start`
            says (naming the question id). With False such answers are
            skipped, questions left without answers are skipped too, and
            one warning gives the counts.

    Returns:
        `(x, y)`: `x = {"id": [...], "question": [...], "context": [...],
        "title": [...]}`, one entry per question, and `y` a list per
        question of its answers `[{"text": str, "answer_start": int}]`
        (several in the dev sets; `[]` for an unanswerable SQuAD 2.0
        question). `plausible_answers` are ignored.

    Example:
    ```python
    x, y = keras_albert.datasets.load_squad("dev-v2.0.json")
    version_2 = keras_albert.datasets.is_squad_v2("dev-v2.0.json")
    ```
    """
    data = _read(path)
    x = {"id": [], "question": [], "context": [], "title": []}
    y = []
    seen = set()
    skipped_answers, skipped_questions = 0, 0
    for title, context, qa in _questions(data, path):
        if not isinstance(qa, dict):
            raise DataFileError(f"{path}: a question entry is not an object.")
        qid = qa.get("id")
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise DataFileError(
                f"{path}: a question has no 'id' (question: "
                f"{qa.get('question')!r})."
            )
        qid = str(qid)
        if qid in seen:
            raise DataFileError(f"{path}: question id {qid!r} appears twice.")
        seen.add(qid)
        question = qa.get("question")
        if not isinstance(question, str):
            raise DataFileError(f"{path}: question {qid!r} has no 'question'.")
        answers = qa.get("answers", [])
        if not isinstance(answers, list):
            raise DataFileError(
                f"{path}: 'answers' of question {qid!r} is not a list."
            )
        impossible = bool(qa.get("is_impossible", False))
        if impossible and answers:
            raise DataFileError(
                f"{path}: question {qid!r} is marked is_impossible but has "
                f"{len(answers)} answers."
            )
        kept = []
        for answer in answers:
            text = answer.get("text") if isinstance(answer, dict) else None
            start = (answer.get("answer_start")
                     if isinstance(answer, dict) else None)
            if not isinstance(text, str) or not isinstance(start, int) or (
                isinstance(start, bool)
            ):
                raise DataFileError(
                    f"{path}: an answer of question {qid!r} lacks a 'text' "
                    f"string or an integer 'answer_start': {answer!r}."
                )
            if start < 0 or context[start:start + len(text)] != text:
                if strict:
                    found = context[max(start, 0):max(start, 0) + len(text)]
                    raise DataFileError(
                        f"{path}: answer {text!r} of question {qid!r} is not "
                        f"at answer_start={start} of its context (found "
                        f"{found!r}). Pass strict=False to skip such "
                        "answers."
                    )
                skipped_answers += 1
                continue
            kept.append({"text": text, "answer_start": start})
        if answers and not kept:
            # Keeping it would turn an answerable question into an
            # unanswerable one.
            skipped_questions += 1
            continue
        x["id"].append(qid)
        x["question"].append(question)
        x["context"].append(context)
        x["title"].append(title)
        y.append(kept)
    if skipped_answers:
        logger.warning(
            "%s: skipped %d answers whose text is not at their "
            "answer_start, and %d questions left without answers.",
            path, skipped_answers, skipped_questions,
        )
    return x, y
