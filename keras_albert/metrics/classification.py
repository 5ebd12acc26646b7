"""Sequence classification and regression scores (GLUE's), in NumPy."""

import numpy as np


def _as_arrays(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same shape; got "
            f"{y_true.shape} and {y_pred.shape}."
        )
    if y_true.size == 0:
        raise ValueError("No examples to score.")
    return y_true, y_pred


def classification_scores(y_true, y_pred, num_classes=None):
    """Accuracy, macro F1 and Matthews correlation (and, for two classes,
    the F1 of class 1, as GLUE reports for MRPC and QQP).

    Args:
        y_true: int labels, shape `(n,)`.
        y_pred: int predicted labels, shape `(n,)`.
        num_classes: optional int; defaults to the labels seen.

    Returns:
        dict with `accuracy`, `macro_f1`, `mcc` and, for two classes, `f1`.

    Example:
    ```python
    classification_scores([1, 0, 1, 1], [1, 0, 0, 1])
    # accuracy 0.75, f1 0.8 (precision 1, recall 2/3), ...
    ```
    """
    y_true, y_pred = _as_arrays(y_true, y_pred)
    y_true = y_true.astype("int64")
    y_pred = y_pred.astype("int64")
    k = int(num_classes or max(y_true.max(), y_pred.max()) + 1)
    confusion = np.zeros((k, k), "float64")
    np.add.at(confusion, (y_true, y_pred), 1.0)
    true_positive = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(predicted + actual > 0,
                      2 * true_positive / (predicted + actual), 0.0)
    scores = {
        "accuracy": float(true_positive.sum() / confusion.sum()),
        "macro_f1": float(f1[actual > 0].mean()) if (actual > 0).any()
        else 0.0,
        "mcc": _matthews(confusion),
    }
    if k == 2:
        scores["f1"] = float(f1[1])
    return scores


def _matthews(confusion):
    # The multi-class form (Gorodkin 2004); equals the usual binary MCC.
    n = confusion.sum()
    correct = np.trace(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    numerator = correct * n - np.dot(predicted, actual)
    denominator = np.sqrt(
        (n ** 2 - np.dot(predicted, predicted))
        * (n ** 2 - np.dot(actual, actual))
    )
    return float(numerator / denominator) if denominator > 0 else 0.0


def _ranks(x):
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), "float64")
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _pearson(a, b):
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def regression_scores(y_true, y_pred):
    """Pearson and Spearman correlation (STS-B's metrics) and MSE.

    Args:
        y_true: float targets, shape `(n,)` (or `(n, 1)`).
        y_pred: float predictions of the same shape.

    Returns:
        dict with `pearson`, `spearman`, `mse`. A constant input has no
        correlation; it scores 0.

    Example:
    ```python
    regression_scores([1.0, 2.0, 3.0], [1.1, 1.9, 3.5])["spearman"]  # 1.0
    ```
    """
    y_true, y_pred = _as_arrays(y_true, y_pred)
    y_true = y_true.reshape(-1).astype("float64")
    y_pred = y_pred.reshape(-1).astype("float64")
    return {
        "pearson": _pearson(y_true, y_pred),
        "spearman": _pearson(_ranks(y_true), _ranks(y_pred)),
        "mse": float(np.mean((y_true - y_pred) ** 2)),
    }
