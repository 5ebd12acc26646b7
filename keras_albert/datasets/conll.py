"""Reads CoNLL-2003-style token-per-line files for token classification.

The format: one token per line, its columns separated by spaces or tabs
(`word POS chunk NER` in CoNLL-2003, `word NER` in many others), a blank
line between sentences, and `-DOCSTART-` lines between documents.

Example file:
```
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
```
"""

import os
import re

from keras_albert.datasets.text_files import DataFileError
from keras_albert.datasets.text_files import read_text
from keras_albert.datasets.text_files import split_lines

# Columns are separated by spaces or tabs only: a word may hold other
# Unicode spaces (e.g. a no-break space), which `str.split()` would break.
_COLUMN_SEPARATOR = re.compile(r"[ \t]+")


def _is_docstart(columns):
    return columns[0] == "-DOCSTART-"


def load_conll(path, tag_column=-1):
    """Reads a CoNLL-style file into sentences of words and their tags.

    The word is the first column and the tag the `tag_column`-th. Every
    token line must have as many columns as the first one, so a shifted
    or truncated line is reported instead of silently mis-read.
    `-DOCSTART-` lines are skipped and end the current sentence, like
    blank lines.

    Args:
        path: path to the file (UTF-8).
        tag_column: int. Index of the tag column, negative from the end
            (`-1`, the last column, is the NER tag in CoNLL-2003). Must not
            be the word column.

    Returns:
        `(x, y)`: `x` a list of sentences, each a list of word strings,
        and `y` the matching lists of tag strings.

    Raises:
        DataFileError: naming the file and line of a malformed line (or of
            bytes that are not UTF-8).

    Example:
    ```python
    x, y = load_conll("eng.train")
    x[0], y[0]  # (['EU', 'rejects', ...], ['B-ORG', 'O', ...])
    model = AlbertTokenClassifier.from_preset("base",
                                              labels=conll_labels(y))
    model.fit(x, y, batch_size=32, epochs=3)
    ```
    """
    path = os.fspath(path)
    x, y = [], []
    words, tags = [], []
    num_columns = first_line = None

    def end_sentence():
        if words:
            x.append(list(words))
            y.append(list(tags))
            words.clear()
            tags.clear()

    for number, line in enumerate(split_lines(read_text(path)), start=1):
        stripped = line.strip(" \t")
        columns = _COLUMN_SEPARATOR.split(stripped) if stripped else []
        if not columns:
            end_sentence()
            continue
        if _is_docstart(columns):
            end_sentence()
            continue
        if num_columns is None:
            if len(columns) < 2:
                raise DataFileError(
                    f"{path}, line {number}: a token line needs a word and "
                    f"a tag column, found {len(columns)} column: {line!r}."
                )
            column = tag_column + len(columns) if tag_column < 0 else (
                tag_column)
            if not 0 < column < len(columns):
                raise DataFileError(
                    f"{path}, line {number}: tag_column={tag_column} is not "
                    f"a tag column of a line with {len(columns)} columns "
                    f"(column 0 is the word): {line!r}."
                )
            num_columns, first_line = len(columns), number
        elif len(columns) != num_columns:
            raise DataFileError(
                f"{path}, line {number}: expected {num_columns} columns "
                f"like line {first_line}, found {len(columns)}: {line!r}."
            )
        words.append(columns[0])
        tags.append(columns[tag_column])
    end_sentence()
    return x, y


def conll_labels(y):
    """The tag set of `y` as a label list: `"O"` first, then the other tags
    sorted. `"O"` is included even when `y` has none, since it is the tag
    for words outside any entity.

    Example:
    ```python
    conll_labels([["B-PER", "O"], ["B-LOC", "I-LOC"]])
    # ['O', 'B-LOC', 'B-PER', 'I-LOC']
    ```
    """
    tags = set()
    for i, sentence in enumerate(y):
        if isinstance(sentence, str):
            raise ValueError(
                "Expected a list of sentences, each a list of tags. "
                f"Sentence {i} is a single string: {sentence!r}."
            )
        tags.update(sentence)
    tags.discard("O")
    return ["O"] + sorted(tags)
