"""Documentation text harvested from the Python standard library.

Every Python installation carries thousands of docstrings: real English
technical prose, licensed under the PSF license, present offline. They make a
pretraining corpus (documents = modules, in source order, so consecutive
sentences really are consecutive, which sentence-order prediction needs) and
a labelled task (which package a sentence documents).
"""

import ast
import importlib
import inspect
import re
import warnings

# Packages with plenty of prose and no import side effects (idlelib is
# left out: importing `idlelib.idle` parses sys.argv and starts IDLE).
DEFAULT_PACKAGES = (
    "asyncio", "email", "unittest", "logging", "xml", "http", "json",
    "collections", "concurrent", "urllib", "importlib", "argparse",
    "sqlite3", "multiprocessing", "tkinter", "pydoc_data",
    "ctypes", "zoneinfo", "tomllib", "typing", "dataclasses", "pathlib",
    "subprocess", "threading", "socket", "ssl", "tarfile", "zipfile",
    "decimal", "fractions", "statistics", "random", "datetime", "calendar",
    "textwrap", "difflib", "pickle", "shutil", "tempfile", "functools",
    "itertools", "inspect", "ast", "dis", "codecs", "locale", "gettext",
)

# Sorts members whose source cannot be found after the others.
_UNKNOWN_LINE = 10**9
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`])")
_MARKUP = re.compile(r"[:`*>|]{2,}|^\s*[-=~^]{3,}\s*$", re.M)


def _module_names(package):
    import pkgutil

    try:
        module = importlib.import_module(package)
    except Exception:  # noqa: BLE001 - optional stdlib parts (tkinter)
        return []
    names = [package]
    path = getattr(module, "__path__", None)
    if path:
        for info in pkgutil.walk_packages(path, prefix=package + "."):
            if ".test" in info.name or "__main__" in info.name:
                continue
            names.append(info.name)
    return names


def _class_lines(module):
    """`{qualname: line}` of the classes defined in `module`'s source: the
    line `inspect.getsourcelines` reports (the first decorator's, else the
    `class` statement's), from one parse of the file instead of one per
    class."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError, ValueError):
        return {}
    lines = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = prefix + child.name
                line = (child.decorator_list[0].lineno
                        if child.decorator_list else child.lineno)
                lines.setdefault(name, line)
                visit(child, name + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, prefix + child.name + ".<locals>.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return lines


def _source_line(obj, class_lines):
    """Where `obj` (a class or function of the module) starts in its
    source, as `inspect.getsourcelines(obj)[1]` says; unknown: last."""
    if inspect.isclass(obj):
        return class_lines.get(obj.__qualname__, _UNKNOWN_LINE)
    try:
        # For functions this reads a line number (cheap); only classes
        # need the parse done once in `_class_lines`.
        return inspect.findsource(inspect.unwrap(obj))[1] + 1
    except (OSError, TypeError):  # no source (e.g. frozen modules)
        return _UNKNOWN_LINE


def _docstrings(module):
    """Docstrings of a module and its classes/functions, in source order."""
    yield inspect.getdoc(module) or ""
    members = []
    class_lines = None
    for _, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if class_lines is None:
                class_lines = _class_lines(module)
            members.append((_source_line(obj, class_lines), obj))
    for _, obj in sorted(members, key=lambda t: t[0]):
        yield inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for name, attr in vars(obj).items():
                if inspect.isfunction(attr) and not name.startswith("__"):
                    yield inspect.getdoc(attr) or ""


def _sentences(docstring):
    """Prose sentences of a docstring (code, tables and markup dropped)."""
    out = []
    for paragraph in re.split(r"\n\s*\n", docstring):
        if _MARKUP.search(paragraph) or paragraph.lstrip().startswith(
            (">>>", "$", "{", "[", "#")
        ):
            continue
        text = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(text):
            words = sentence.split()
            letters = sum(c.isalpha() for c in sentence)
            if 4 <= len(words) <= 60 and letters > 0.6 * len(sentence):
                out.append(sentence)
    return out


def load_python_docs(packages=DEFAULT_PACKAGES, min_sentences=2):
    """Returns documents harvested from the standard library.

    Args:
        packages: top-level stdlib packages/modules to read.
        min_sentences: drop documents shorter than this.

    Returns:
        A list of `(package, sentences)` pairs, one per module, sentences in
        source order.

    Example:
    ```python
    docs = load_python_docs(["json", "email"])
    package, sentences = docs[0]
    ```
    """
    documents = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for package in packages:
            for name in _module_names(package):
                try:
                    module = importlib.import_module(name)
                except Exception:  # noqa: BLE001 - platform-specific parts
                    continue
                sentences = []
                for doc in _docstrings(module):
                    sentences.extend(_sentences(doc))
                if len(sentences) >= min_sentences:
                    documents.append((package, sentences))
    return documents
