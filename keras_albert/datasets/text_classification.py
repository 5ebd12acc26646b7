"""Sentence and sentence-pair classification data from CSV, TSV or JSONL.

Reads the files GLUE ships (TSV with a header, no quoting) and the usual
CSV/JSON Lines exports, and returns what `AlbertClassifier.fit` takes.
"""

import csv
import json
import os

import numpy as np

# Column names used by GLUE and common exports, tried in order.
TEXT_COLUMNS = (
    ("sentence1", "sentence2"), ("question1", "question2"),
    ("premise", "hypothesis"), ("question", "sentence"),
    ("#1 String", "#2 String"), ("text_a", "text_b"), ("sentence",),
    ("text",),
)
LABEL_COLUMNS = ("label", "score", "gold_label", "Quality", "labels")


def _read_rows(path, format):
    if format == "jsonl":
        rows = []
        with open(path, encoding="utf-8") as f:
            for line_number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(
                        f"{path}:{line_number}: not valid JSON ({e.msg})."
                    ) from None
                if not isinstance(row, dict):
                    raise ValueError(
                        f"{path}:{line_number}: expected a JSON object per "
                        f"line, got {type(row).__name__}."
                    )
                rows.append((line_number, row))
        return rows
    delimiter = "\t" if format == "tsv" else ","
    # GLUE's TSVs contain bare quote characters inside sentences.
    quoting = csv.QUOTE_NONE if format == "tsv" else csv.QUOTE_MINIMAL
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=quoting)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty.")
        rows = []
        for line_number, values in enumerate(reader, 2):
            if not values:
                continue
            if len(values) != len(header):
                raise ValueError(
                    f"{path}:{line_number}: {len(values)} columns, the "
                    f"header has {len(header)} ({header})."
                )
            rows.append((line_number, dict(zip(header, values))))
        return rows


def _pick_text_columns(columns, text_column, text_pair_column, path):
    if text_column is not None:
        missing = [c for c in (text_column, text_pair_column)
                   if c is not None and c not in columns]
        if missing:
            raise ValueError(
                f"{path} has no column {missing[0]!r}; columns: "
                f"{sorted(columns)}."
            )
        return (text_column,) + (
            (text_pair_column,) if text_pair_column else ())
    for candidate in TEXT_COLUMNS:
        if all(c in columns for c in candidate):
            return candidate
    raise ValueError(
        f"Cannot tell which column of {path} holds the text; pass "
        f"`text_column` (and `text_pair_column` for pairs). Columns: "
        f"{sorted(columns)}."
    )


def load_text_classification(path, text_column=None, text_pair_column=None,
                             label_column=None, label_names=None,
                             regression=False, format=None,
                             return_label_names=False):
    """Reads sentences (or sentence pairs) and labels from a file.

    Args:
        path: a `.csv`, `.tsv` (header row, GLUE style) or `.jsonl` file.
        text_column: column with the text; by default the first of GLUE's
            names present (`sentence1`/`sentence2`, `question1`/`question2`,
            `premise`/`hypothesis`, `question`/`sentence`, `sentence`,
            `text` ...).
        text_pair_column: column with the second text of a pair.
        label_column: column with the label (default: the first of `label`,
            `score`, `gold_label`, `Quality`, `labels` present). A file
            without one (e.g. a GLUE test set) gives `y=None`.
        label_names: list of label strings; label `label_names[i]` becomes
            class `i`. By default integer labels are kept and string labels
            are numbered in sorted order.
        regression: bool. Labels are floats (STS-B).
        format: `"csv"`, `"tsv"` or `"jsonl"`; by default from the file
            extension.
        return_label_names: bool. Also return the label names in class
            order (None for integer or regression labels), to read an
            evaluation file with the same numbering.

    Returns:
        `(x, y)` (or `(x, y, label_names)`): `x` a NumPy array of strings or
        an `(a, b)` tuple of two arrays for pairs; `y` int (or float with
        `regression=True`) labels, or None.

    Example:
    ```python
    x, y = load_text_classification("glue/MRPC/train.tsv")
    classifier.fit(x, y, batch_size=32)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such data file: {path}")
    if format is None:
        extension = os.path.splitext(path)[1].lower().lstrip(".")
        format = {"json": "jsonl", "txt": "tsv"}.get(extension, extension)
    if format not in ("csv", "tsv", "jsonl"):
        raise ValueError(
            f"Unknown data format {format!r} for {path}; use a .csv, .tsv "
            "or .jsonl file or pass `format=`."
        )
    rows = _read_rows(path, format)
    if not rows:
        raise ValueError(f"{path} has no examples.")
    columns = set(rows[0][1])
    text_columns = _pick_text_columns(columns, text_column, text_pair_column,
                                      path)
    if label_column is None:
        label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    elif label_column not in columns:
        raise ValueError(
            f"{path} has no column {label_column!r}; columns: "
            f"{sorted(columns)}."
        )

    texts = [[] for _ in text_columns]
    raw_labels = []
    for line_number, row in rows:
        for values, column in zip(texts, text_columns):
            value = row.get(column)
            if not isinstance(value, str):
                raise ValueError(
                    f"{path}:{line_number}: column {column!r} is "
                    f"{'missing' if value is None else type(value).__name__}"
                    ", expected text."
                )
            values.append(value)
        if label_column is not None:
            if label_column not in row:
                raise ValueError(
                    f"{path}:{line_number}: no {label_column!r} value.")
            raw_labels.append(row[label_column])

    x = tuple(np.array(t, dtype=object) for t in texts)
    x = x[0] if len(x) == 1 else x
    y, names = (None, None) if label_column is None else _encode_labels(
        raw_labels, label_names, regression, path)
    return (x, y, names) if return_label_names else (x, y)


def _encode_labels(raw, label_names, regression, path):
    """Returns `(labels, label_names or None)`."""
    if regression:
        try:
            return np.array([float(v) for v in raw], "float32"), None
        except (TypeError, ValueError):
            bad = next(v for v in raw if not _is_number(v))
            raise ValueError(
                f"{path}: regression label {bad!r} is not a number."
            ) from None
    if label_names is not None:
        index = {str(name): i for i, name in enumerate(label_names)}
        unknown = sorted({str(v) for v in raw} - set(index))
        if unknown:
            raise ValueError(
                f"{path}: labels {unknown} are not in `label_names` "
                f"{list(label_names)}."
            )
        return np.array([index[str(v)] for v in raw], "int32"), [
            str(n) for n in label_names]
    if all(_is_int(v) for v in raw):
        labels = np.array([int(v) for v in raw], "int32")
        if labels.min() < 0:
            raise ValueError(
                f"{path}: class labels must be >= 0; got {labels.min()}. "
                "Pass `label_names` to map them."
            )
        return labels, None
    names = sorted({str(v) for v in raw})
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[str(v)] for v in raw], "int32"), names


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _is_number(value):
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False
