"""Sentence and sentence-pair classification data from CSV, TSV or JSONL.

Reads the files GLUE ships (TSV with a header, no quoting) and the usual
CSV/JSON Lines exports, and returns what `AlbertClassifier.fit` takes.
"""

import contextlib
import csv
import io
import json
import math
import os

import numpy as np

from keras_albert.datasets.text_files import DataFileError
from keras_albert.datasets.text_files import read_text
from keras_albert.datasets.text_files import split_lines

# Column names used by GLUE and common exports, tried in order.
TEXT_COLUMNS = (
    ("sentence1", "sentence2"), ("question1", "question2"),
    ("premise", "hypothesis"), ("question", "sentence"),
    ("#1 String", "#2 String"), ("text_a", "text_b"), ("sentence",),
    ("text",),
)
LABEL_COLUMNS = ("label", "score", "gold_label", "Quality", "labels")
# Label values that mean "no label": a row with one of them is an error,
# never a class of its own.
_MISSING_LABELS = ("", "null", "none", "n/a", "na", "nan", "-")


@contextlib.contextmanager
def _no_csv_field_limit():
    """Lifts the csv module's 128 KiB field limit for one read: a long
    document in one cell is data, not an error."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_jsonl(path, text):
    rows = []
    for line_number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataFileError(
                f"{path}:{line_number}: not valid JSON ({e.msg})."
            ) from None
        if not isinstance(row, dict):
            raise DataFileError(
                f"{path}:{line_number}: expected a JSON object per "
                f"line, got {type(row).__name__}."
            )
        rows.append((line_number, row))
    return rows


def _read_rows(path, format, header=True):
    """`[(line_number, {column: value})]`; columns are the header's names,
    or the column indexes 0, 1, ... of a file without a header row."""
    text = read_text(path)
    if format == "jsonl":
        return _read_jsonl(path, text)
    delimiter = "\t" if format == "tsv" else ","
    # GLUE's TSVs contain bare quote characters inside sentences.
    quoting = csv.QUOTE_NONE if format == "tsv" else csv.QUOTE_MINIMAL
    with _no_csv_field_limit():
        try:
            records = list(csv.reader(io.StringIO(text, newline=""),
                                      delimiter=delimiter, quoting=quoting))
        except csv.Error as e:
            raise DataFileError(f"{path}: not valid {format.upper()} ({e}).") \
                from None
    if not records:
        raise DataFileError(f"{path} is empty.")
    if header:
        names, first_line, records = records[0], 2, records[1:]
    else:
        names, first_line = list(range(len(records[0]))), 1
    rows = []
    for line_number, values in enumerate(records, first_line):
        if not values:
            continue
        if len(values) != len(names):
            raise DataFileError(
                f"{path}:{line_number}: {len(values)} columns, "
                + (f"the header has {len(names)} ({names})." if header
                   else f"the first row has {len(names)}.")
            )
        rows.append((line_number, dict(zip(names, values))))
    return rows


def _pick_text_columns(columns, text_column, text_pair_column, path):
    if text_column is not None:
        missing = [c for c in (text_column, text_pair_column)
                   if c is not None and c not in columns]
        if missing:
            raise DataFileError(
                f"{path} has no column {missing[0]!r}; columns: "
                f"{list(columns)}."
            )
        return (text_column,) + (
            (text_pair_column,) if text_pair_column is not None else ())
    for candidate in TEXT_COLUMNS:
        if all(c in columns for c in candidate):
            return candidate
    raise DataFileError(
        f"Cannot tell which column of {path} holds the text. Its first row "
        f"was read as a header: {list(columns)}. Name the text "
        "column (`--text-column NAME`, and `--text-pair-column` for pairs; "
        "in Python `text_column=`), or, for a file without a header row, "
        "give column indexes counted from 0 (e.g. `--text-column 3 "
        "--label-column 1`)."
    )



def load_text_classification(path, text_column=None, text_pair_column=None,
                             label_column=None, label_names=None,
                             regression=False, format=None,
                             return_label_names=False, header=None):
    """Reads sentences (or sentence pairs) and labels from a file.

    Accepted layouts: CSV and TSV with a header row (GLUE's TSVs: no
    quoting), CSV and TSV without one (columns given by index), and JSON
    Lines (one object per line). Files are UTF-8, with or without a
    byte-order mark.

    Args:
        path: a `.csv`, `.tsv` or `.jsonl` file.
        text_column: column with the text, by name or, for a file without
            a header row, by index from 0. By default the first of GLUE's
            names present (`sentence1`/`sentence2`, `question1`/`question2`,
            `premise`/`hypothesis`, `question`/`sentence`, `#1 String`/
            `#2 String`, `text_a`/`text_b`, `sentence`, `text`).
        text_pair_column: column with the second text of a pair.
        label_column: column with the label (default: the first of `label`,
            `score`, `gold_label`, `Quality`, `labels` present). A file
            without one (e.g. a GLUE test set) gives `y=None`.
        label_names: list of label strings; label `label_names[i]` becomes
            class `i`. By default integer labels are kept and string labels
            are numbered in sorted order. A missing label (empty, `null`,
            `n/a`, `nan`, ...) is an error, and so is a non-integer among
            integer labels: nothing is renumbered silently.
        regression: bool. Labels are finite floats (STS-B).
        format: `"csv"`, `"tsv"` or `"jsonl"`; by default from the file
            extension.
        return_label_names: bool. Also return the label names in class
            order (None for integer or regression labels), to read an
            evaluation file with the same numbering.
        header: bool. Whether the first row of a CSV/TSV names the
            columns; by default True unless the columns are given as
            indexes.

    Returns:
        `(x, y)` (or `(x, y, label_names)`): `x` a NumPy array of strings or
        an `(a, b)` tuple of two arrays for pairs; `y` int (or float with
        `regression=True`) labels, or None.

    Raises:
        DataFileError: naming the file, the line and the problem.

    Example:
    ```python
    x, y = load_text_classification("glue/MRPC/train.tsv")
    classifier.fit(x, y, batch_size=32)
    # CoLA's train.tsv has no header: label in column 1, text in 3.
    x, y = load_text_classification("glue/CoLA/train.tsv", text_column=3,
                                    label_column=1)
    ```
    """
    path = os.fspath(path)
    if format is None:
        extension = os.path.splitext(path)[1].lower().lstrip(".")
        format = {"json": "jsonl", "txt": "tsv"}.get(extension, extension)
    if format not in ("csv", "tsv", "jsonl"):
        raise DataFileError(
            f"Unknown data format {format!r} for {path}; use a .csv, .tsv "
            "or .jsonl file or pass `format=`."
        )
    by_index = [isinstance(c, int) and not isinstance(c, bool)
                for c in (text_column, text_pair_column, label_column)
                if c is not None]
    if any(by_index) and not all(by_index):
        raise ValueError(
            "Give the columns all by name or all by index; received "
            f"text_column={text_column!r}, text_pair_column="
            f"{text_pair_column!r}, label_column={label_column!r}."
        )
    if header is None:
        header = not any(by_index)
    if not header and format == "jsonl":
        raise ValueError("JSON Lines files have no header to skip; name "
                         "the fields instead of giving indexes.")
    rows = _read_rows(path, format, header=header)
    if not rows:
        raise DataFileError(f"{path} has no examples.")
    columns = list(rows[0][1])
    text_columns = _pick_text_columns(columns, text_column, text_pair_column,
                                      path)
    if label_column is None:
        label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    elif label_column not in columns:
        raise DataFileError(
            f"{path} has no column {label_column!r}; columns: {columns}."
        )

    texts = [[] for _ in text_columns]
    raw_labels = []
    for line_number, row in rows:
        for values, column in zip(texts, text_columns):
            value = row.get(column)
            if not isinstance(value, str):
                raise DataFileError(
                    f"{path}:{line_number}: column {column!r} is "
                    f"{'missing' if value is None else type(value).__name__}"
                    ", expected text."
                )
            values.append(value)
        if label_column is not None:
            if label_column not in row:
                raise DataFileError(
                    f"{path}:{line_number}: no {label_column!r} value.")
            raw_labels.append((line_number, row[label_column]))

    x = tuple(np.array(t, dtype=object) for t in texts)
    x = x[0] if len(x) == 1 else x
    y, names = (None, None) if label_column is None else _encode_labels(
        raw_labels, label_names, regression, path)
    return (x, y, names) if return_label_names else (x, y)


def _is_missing(value):
    return value is None or (
        isinstance(value, str) and value.strip().lower() in _MISSING_LABELS
    ) or (isinstance(value, float) and math.isnan(value))


def _encode_labels(raw, label_names, regression, path):
    """`(labels, label_names or None)` from `[(line_number, value)]`."""
    for line_number, value in raw:
        if _is_missing(value) and not (
            label_names is not None and str(value) in map(str, label_names)
        ):
            raise DataFileError(
                f"{path}:{line_number}: the label is missing ({value!r}). "
                "Remove the row or give it a label."
            )
    if regression:
        labels = []
        for line_number, value in raw:
            number = _as_number(value)
            if number is None or not math.isfinite(number):
                raise DataFileError(
                    f"{path}:{line_number}: regression label {value!r} is "
                    + ("not a number." if number is None else
                       "not finite: targets must be finite numbers.")
                )
            labels.append(number)
        return np.array(labels, "float32"), None
    if label_names is not None:
        index = {str(name): i for i, name in enumerate(label_names)}
        for line_number, value in raw:
            if str(value) not in index:
                raise DataFileError(
                    f"{path}:{line_number}: label {value!r} is not in "
                    f"`label_names` {list(label_names)}."
                )
        return np.array([index[str(v)] for _, v in raw], "int32"), [
            str(n) for n in label_names]
    integers = [_is_int(v) for _, v in raw]
    if any(integers):
        if not all(integers):
            line_number, value = raw[integers.index(False)]
            raise DataFileError(
                f"{path}:{line_number}: label {value!r} is not an integer "
                "class id like the others. Fix the row, pass "
                "`regression=True` for numeric targets, or `label_names` "
                "for named classes."
            )
        labels = np.array([int(v) for _, v in raw], "int32")
        if labels.min() < 0:
            line_number = raw[int(labels.argmin())][0]
            raise DataFileError(
                f"{path}:{line_number}: class labels must be >= 0; got "
                f"{labels.min()}. Pass `label_names` to map them."
            )
        return labels, None
    names = sorted({str(v) for _, v in raw})
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[str(v)] for _, v in raw], "int32"), names


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _as_number(value):
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
