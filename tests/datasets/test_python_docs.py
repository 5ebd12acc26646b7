"""The stdlib documentation corpus: members in source order, found without
re-parsing a module for every class."""

import importlib
import inspect

import pytest

from keras_albert.datasets import python_docs


@pytest.mark.parametrize("package", ["json", "email", "logging",
                                     "importlib"])
def test_source_lines_are_those_inspect_reports(package):
    checked = 0
    for name in python_docs._module_names(package):
        module = importlib.import_module(name)
        class_lines = python_docs._class_lines(module)
        for obj in vars(module).values():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            try:
                want = inspect.getsourcelines(obj)[1]
            except (OSError, TypeError):
                want = python_docs._UNKNOWN_LINE
            assert python_docs._source_line(obj, class_lines) == want, obj
            checked += 1
    assert checked > 10


def test_documents_are_prose_in_source_order():
    documents = python_docs.load_python_docs(["json"])
    packages = {package for package, _ in documents}
    assert packages == {"json"}
    module = importlib.import_module("json.decoder")
    first = list(python_docs._docstrings(module))
    assert first[0] == inspect.getdoc(module)
    for _, sentences in documents:
        assert len(sentences) >= 2
        assert all(4 <= len(s.split()) <= 60 for s in sentences)
