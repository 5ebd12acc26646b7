"""Reading data files as text, the same way in every reader.

Every reader decodes its file here, so a file that is not UTF-8, starts with
a byte-order mark or holds Unicode line separators behaves the same in all
of them, and every problem is a `DataFileError` that names the file and the
line.
"""

import os
import re


class DataFileError(ValueError):
    """A data file that cannot be read as the reader's format; the message
    names the file and, where there is one, the line."""


# Only these end a line in data files. `str.splitlines` also splits on
# U+2028, U+0085, form feeds and others, which appear inside real text and
# would shift every following line number.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_text(path):
    """The file's text, decoded as UTF-8 with or without a byte-order mark.

    Raises:
        FileNotFoundError: no such file.
        DataFileError: a directory, or not UTF-8 (the message gives the
            line and the byte).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataFileError(f"{path} is a directory, not a data file.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such data file: {path}")
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataFileError(
            f"{path} is not UTF-8 text: line {line} has byte "
            f"0x{data[e.start]:02x} (offset {e.start}). Save the file as "
            "UTF-8, e.g. with `iconv -f latin1 -t utf-8`."
        ) from None


def split_lines(text):
    """`text`'s lines, broken only at `\\n`, `\\r\\n` and `\\r`; a final line
    break does not add an empty line."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
