"""Tests of the notebooks in `notebooks/`: static checks of the committed
files and their execution with CI parameters.

`runner` is `notebooks/run_notebooks.py`, loaded by path (`notebooks/` is
not a package; the script runs with the standard library, nbformat and
papermill only).
"""

import importlib.util
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RUNNER_PATH = os.path.join(REPO_ROOT, "notebooks", "run_notebooks.py")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load("run_notebooks", RUNNER_PATH)
