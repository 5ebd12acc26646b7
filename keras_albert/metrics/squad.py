"""The official SQuAD v1.1 and v2.0 metrics: exact match and token F1.

Written from the published definition of the evaluation scripts
(`evaluate-v1.1.py`, `evaluate-v2.0.py`):

- Answers are compared after `normalize_answer`: lower-cased, ASCII
  punctuation removed, the articles "a", "an", "the" removed, whitespace
  collapsed.
- Exact match is 1 when the normalized strings are equal; F1 is the
  harmonic mean of precision and recall over the bag of normalized
  whitespace tokens. A question scores the maximum over its gold answers.
- SQuAD 2.0: a question without gold answers is answered correctly only by
  the empty string (exact match and F1 1, else 0). Gold answers that
  normalize to nothing are dropped; a question left without any is scored
  against `""`.
- Scores are averaged over questions and reported on a 0-100 scale. With
  no-answer scores (higher = more likely unanswerable), the v2 search for
  the threshold that maximises exact match / F1 is reported too.

On well-formed v1.1 data both scripts agree with these functions; the v1.1
script differs only for gold answers that normalize to nothing.
"""

import collections
import math
import re
import string

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text):
    """Lower-cases `text` and removes punctuation, articles and extra
    whitespace, as the official SQuAD scripts do."""
    text = text.lower()
    text = "".join(char for char in text if char not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _gold_texts(gold_answers):
    """Gold answer strings of one question (dicts with "text" or strings),
    with the v2 rule: those that normalize to nothing are dropped, and a
    question left without any is scored against `""`."""
    if isinstance(gold_answers, str):
        raise ValueError(
            "Gold answers must be a list (of strings or of dicts with "
            f"'text'), not a single string: {gold_answers!r}."
        )
    texts = []
    for answer in gold_answers:
        text = answer.get("text") if isinstance(answer, dict) else answer
        if not isinstance(text, str):
            raise ValueError(
                "A gold answer must be a string or a dict with a 'text' "
                f"string. Received: {answer!r}."
            )
        texts.append(text)
    texts = [t for t in texts if normalize_answer(t)]
    return texts or [""]


def _token_f1(prediction, gold):
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    if not predicted or not expected:
        # Only "no answer" matches "no answer".
        return float(predicted == expected)
    overlap = sum(
        (collections.Counter(predicted) & collections.Counter(expected))
        .values()
    )
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted)
    recall = overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def _check_prediction(prediction):
    if not isinstance(prediction, str):
        raise ValueError(
            "A prediction must be the answer string ('' for no answer). "
            f"Received: {prediction!r}."
        )


def exact_match_score(prediction, gold_answers):
    """1.0 when `prediction` equals any gold answer after
    `normalize_answer`, else 0.0. An empty `gold_answers` means the
    question has no answer (only `""` matches)."""
    _check_prediction(prediction)
    predicted = normalize_answer(prediction)
    return float(any(
        predicted == normalize_answer(gold)
        for gold in _gold_texts(gold_answers)
    ))


def f1_score(prediction, gold_answers):
    """Token F1 (0..1) of `prediction` against the best-matching gold
    answer. An empty `gold_answers` means no answer (only `""` scores)."""
    _check_prediction(prediction)
    return max(_token_f1(prediction, gold) for gold in
               _gold_texts(gold_answers))


def _aligned(predictions, references, what="predictions"):
    """`(keys, [prediction per key], [references per key])`: dicts are
    matched by question id, lists by position."""
    if isinstance(references, dict):
        if not isinstance(predictions, dict):
            raise ValueError(
                f"References are keyed by question id, so {what} must be a "
                "dict keyed by the same ids."
            )
        missing = [k for k in references if k not in predictions]
        if missing:
            raise ValueError(
                f"No {what} for {len(missing)} of {len(references)} "
                f"questions, e.g. ids {missing[:5]}."
            )
        keys = list(references)
        return keys, [predictions[k] for k in keys], [
            references[k] for k in keys
        ]
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(
            f"Got {len(predictions)} {what} for {len(references)} "
            "questions."
        )
    return list(range(len(references))), predictions, references


def _percent(values):
    return 100.0 * sum(values) / len(values)


def best_threshold_scores(predictions, references, no_answer_scores):
    """The SQuAD 2.0 search for the best no-answer threshold.

    Every question is answered with its prediction when its no-answer
    score is at most the threshold, and with `""` (no answer) otherwise.
    Returns `best_exact`, `best_f1` (0-100) and the thresholds reaching them
    (`best_exact_thresh`, `best_f1_thresh`; `-inf` when answering nothing
    is best). Questions with equal no-answer scores switch together, since
    no threshold separates them.

    Args:
        predictions: `{id: text}` or a list: the answer to give when the
            question is answered (usually the best non-null span).
        references: `{id: gold answers}` or a list (`[]`: no answer).
        no_answer_scores: `{id: float}` or a list; higher means more
            likely unanswerable (e.g. null score minus best span score).
    """
    keys, texts, golds = _aligned(predictions, references)
    _, scores, _ = _aligned(no_answer_scores, references,
                            what="no-answer scores")
    scores = [float(s) for s in scores]
    if any(math.isnan(s) for s in scores):
        raise ValueError("No-answer scores must not be NaN.")
    if not keys:
        raise ValueError("No questions to score.")
    out = {}
    for name, metric in (("exact", exact_match_score), ("f1", f1_score)):
        # Credit of each question when answered, and when left unanswered.
        answered = [metric(t, g) for t, g in zip(texts, golds)]
        unanswered = [metric("", g) for g in golds]
        current = sum(unanswered)
        best, best_threshold = current, -math.inf
        order = sorted(range(len(keys)), key=lambda i: scores[i])
        i = 0
        while i < len(order):
            threshold = scores[order[i]]
            while i < len(order) and scores[order[i]] == threshold:
                q = order[i]
                current += answered[q] - unanswered[q]
                i += 1
            if current > best:
                best, best_threshold = current, threshold
        out[f"best_{name}"] = 100.0 * best / len(keys)
        out[f"best_{name}_thresh"] = best_threshold
    return out


def squad_scores(predictions, references, no_answer_scores=None):
    """Official SQuAD scores of `predictions` against `references`.

    Args:
        predictions: `{question_id: answer_text}`, or a list in the order
            of `references`; `""` means "no answer".
        references: `{question_id: gold_answers}` or a list; each entry a
            list of answer strings or of `{"text", ...}` dicts (what
            `load_squad` returns as `y`); `[]` for an unanswerable
            question (SQuAD 2.0).
        no_answer_scores: optional `{question_id: float}` or list, higher
            meaning more likely unanswerable; adds the SQuAD 2.0 best
            threshold search (see `best_threshold_scores`).

    Returns:
        `{"exact_match", "f1", "total"}` on a 0-100 scale; with unanswerable
        questions also `HasAns_exact`, `HasAns_f1`, `HasAns_total`,
        `NoAns_exact`, `NoAns_f1`, `NoAns_total` (each group only when it
        has questions, like the official script), and with
        `no_answer_scores` `best_exact`, `best_exact_thresh`, `best_f1`,
        `best_f1_thresh`.

    Example:
    ```python
    squad_scores({"q1": "the Eiffel Tower"}, {"q1": ["Eiffel Tower"]})
    # {"exact_match": 100.0, "f1": 100.0, "total": 1}
    ```
    """
    keys, texts, golds = _aligned(predictions, references)
    if not keys:
        raise ValueError("No questions to score.")
    exact = [exact_match_score(t, g) for t, g in zip(texts, golds)]
    f1 = [f1_score(t, g) for t, g in zip(texts, golds)]
    out = {"exact_match": _percent(exact), "f1": _percent(f1),
           "total": len(keys)}
    has_answer = [len(list(g)) > 0 for g in golds]
    if not all(has_answer):
        for prefix, wanted in (("HasAns", True), ("NoAns", False)):
            group = [i for i, h in enumerate(has_answer) if h == wanted]
            if group:
                out[f"{prefix}_exact"] = _percent([exact[i] for i in group])
                out[f"{prefix}_f1"] = _percent([f1[i] for i in group])
                out[f"{prefix}_total"] = len(group)
    if no_answer_scores is not None:
        out.update(best_threshold_scores(predictions, references,
                                         no_answer_scores))
    return out
