"""Reading a raw-text corpus as documents of sentences, lazily.

The corpus format is the one of Google's BERT/ALBERT data tools: plain text
files, one sentence per line, blank lines between documents (and, here, each
file also starts a new document). Lines holding whole paragraphs are split
into sentences with a small rule-based splitter, because sentence-order
prediction needs sentence boundaries. Files are read line by line, so a
corpus never has to fit in memory.
"""

import glob
import os
import re

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets)
# when whitespace and an upper-case letter, digit or opening quote follow.
_BOUNDARY = re.compile(
    r"(?<=[.!?])([\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]*[A-Z0-9])"
)
# Words after which a period rarely ends a sentence.
_ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st vs etc e.g i.e cf al fig figs no nos vol pp eq
approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov
dec u.s u.k ph.d
""".split())


def split_sentences(text):
    """Splits a paragraph of prose into sentences.

    Rule based: a sentence ends at `.`, `!` or `?` followed by whitespace
    and a capital letter, digit or opening quote, unless the period belongs
    to a common abbreviation ("e.g.", "Dr.") or a single-letter initial.

    Args:
        text: str. A paragraph.

    Returns:
        A list of non-empty, stripped sentences.

    Example:
    ```python
    split_sentences("Dr. Smith arrived. He sat down!")
    # ['Dr. Smith arrived.', 'He sat down!']
    ```
    """
    text = " ".join(text.split())
    if not text:
        return []
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group(1))
        candidate = text[start:end]
        if candidate.endswith("."):
            last_word = candidate[:-1].rsplit(" ", 1)[-1].lower()
            last_word = last_word.lstrip("(\"'")
            if last_word in _ABBREVIATIONS or (
                len(last_word) == 1 and last_word.isalpha()
            ):
                continue
        sentences.append(candidate.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


def expand_paths(paths):
    """Files named by `paths`: files, directories (every `*.txt` below them,
    sorted) and glob patterns, in the order given.

    Args:
        paths: a path or a list of paths/patterns.

    Returns:
        A list of file paths.

    Example:
    ```python
    expand_paths(["corpus/", "extra/*.txt"])
    ```
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for path in paths:
        path = os.fspath(path)
        if "://" in path:  # gs://, s3://, ... through tf.io.gfile
            import tensorflow as tf

            matches = sorted(tf.io.gfile.glob(path))
            files.extend(matches or [path])
        elif os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                files.extend(os.path.join(root, n) for n in sorted(names)
                             if n.endswith(".txt"))
        elif os.path.exists(path):
            files.append(path)
        else:
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise FileNotFoundError(f"No corpus file matches {path!r}.")
            files.extend(matches)
    return files


def _open_binary(path):
    if "://" in path:
        import tensorflow as tf

        return tf.io.gfile.GFile(path, "rb")
    return open(path, "rb")


def _file_size(path):
    try:
        if "://" in path:
            import tensorflow as tf

            return tf.io.gfile.stat(path).length
        return os.path.getsize(path)
    except Exception:  # noqa: BLE001 - a size is only for the progress bar
        return 0


def _line_sentences(line, sentence_split):
    return split_sentences(line) if sentence_split else [line]


def read_documents(paths, split_sentences=True, min_sentences=1,
                   encoding="utf-8", progress=False):
    """Streams documents from text files.

    Each file is read line by line: a blank line ends a document, every other
    line is a sentence (or a paragraph, split into sentences when
    `split_sentences`). Each file also starts a new document.

    Args:
        paths: a path or list of paths: files, directories (all `*.txt`
            below) or glob patterns; `gs://` style URLs go through
            `tf.io.gfile`.
        split_sentences: bool. Run `split_sentences` on every line, for
            corpora with a paragraph per line. Harmless on one-sentence
            lines.
        min_sentences: int. Skip documents with fewer sentences.
        encoding: str. Text encoding (undecodable bytes are replaced).
        progress: bool. Show a tqdm bar over bytes read.

    Yields:
        Documents, each a list of sentence strings.

    Example:
    ```python
    for document in read_documents(["wiki/"], progress=True):
        print(len(document), document[0])
    ```
    """
    files = expand_paths(paths)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(_file_size(f) for f in files), unit="B",
                   unit_scale=True, desc="reading corpus")
    sentence_split = split_sentences
    try:
        for path in files:
            document, pending = [], 0
            with _open_binary(path) as handle:
                for raw in handle:
                    pending += len(raw)
                    # Updating tqdm per line would cost more than reading.
                    if bar is not None and pending > (1 << 20):
                        bar.update(pending)
                        pending = 0
                    line = raw.decode(encoding, errors="replace").strip()
                    if not line:
                        if len(document) >= max(1, min_sentences):
                            yield document
                        document = []
                        continue
                    document.extend(_line_sentences(line, sentence_split))
            if bar is not None:
                bar.update(pending)
            if len(document) >= max(1, min_sentences):
                yield document
    finally:
        if bar is not None:
            bar.close()


def _is_path_like(item):
    if isinstance(item, os.PathLike):
        return True
    if not isinstance(item, str) or "\n" in item or len(item) > 4096:
        return False
    return "://" in item or os.path.exists(item) or bool(glob.glob(item))


def iter_documents(corpus_or_documents, split_sentences=True,
                   min_sentences=1, progress=False):
    """Normalises any supported corpus form to a stream of documents.

    Accepted forms:
    - a path, or a list of paths/directories/globs (read lazily with
      `read_documents`);
    - documents as lists of sentences: `[["First.", "Second."], ...]`;
    - `(name, sentences)` pairs, as returned by
      `keras_albert.datasets.load_python_docs()`;
    - raw document texts: `["A paragraph. Another sentence.", ...]` (lines
      and sentences are split; blank lines separate documents).

    Args:
        corpus_or_documents: one of the forms above (any iterable, consumed
            lazily).
        split_sentences: bool. Split lines/texts into sentences. Lists of
            sentences are taken as given.
        min_sentences: int. Skip documents with fewer sentences.
        progress: bool. Progress bar (bytes for files, documents otherwise).

    Yields:
        Documents, each a list of sentence strings.

    Example:
    ```python
    from keras_albert.datasets import load_python_docs
    docs = list(iter_documents(load_python_docs(["json"])))
    ```
    """
    if isinstance(corpus_or_documents, (str, os.PathLike)):
        if _is_path_like(corpus_or_documents):
            yield from read_documents(corpus_or_documents, split_sentences,
                                      min_sentences, progress=progress)
            return
        corpus_or_documents = [corpus_or_documents]
    items = corpus_or_documents
    if isinstance(items, (list, tuple)) and items and all(
        _is_path_like(i) for i in items
    ):
        yield from read_documents(list(items), split_sentences,
                                  min_sentences, progress=progress)
        return
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = len(items) if hasattr(items, "__len__") else None
        bar = tqdm(total=total, unit="doc", desc="reading documents")
    try:
        for item in items:
            if bar is not None:
                bar.update(1)
            if _is_path_like(item):
                yield from read_documents(item, split_sentences,
                                          min_sentences)
                continue
            if (isinstance(item, tuple) and len(item) == 2
                    and isinstance(item[0], str)
                    and not isinstance(item[1], str)):
                item = item[1]  # (name, sentences)
            if isinstance(item, str):
                document = []
                for line in item.split("\n"):
                    line = line.strip()
                    if not line:
                        if len(document) >= max(1, min_sentences):
                            yield document
                        document = []
                        continue
                    document.extend(_line_sentences(line, split_sentences))
            else:
                document = [s.strip() for s in item if s and s.strip()]
            if len(document) >= max(1, min_sentences):
                yield document
    finally:
        if bar is not None:
            bar.close()
