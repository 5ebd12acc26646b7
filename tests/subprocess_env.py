"""Where the TensorFlow subprocess runs of the suite (benchmark smoke runs,
notebooks) happen.

Such a run sets its own backend, so it does not need to run in every tox
environment; running it from one chosen environment keeps the two parallel
halves of the matrix (`tox p -p 2`) even. tox.ini names that environment in
an environment variable per kind of run (e.g. `KERAS_ALBERT_SMOKE_ENV`);
when the variable is unset (a plain local pytest) it is the tensorflow one.
"""

import os

import pytest


def chosen_env(variable):
    """The backend environment `variable` names (default tensorflow)."""
    return os.environ.get(variable, "tensorflow")


def tensorflow_subprocess_env(what, variable="KERAS_ALBERT_SMOKE_ENV"):
    """The environment (a dict) of a TensorFlow subprocess running `what`;
    skips the calling test outside the test environment `variable` names.

    Args:
        what: str. What the subprocess runs, for the skip reason.
        variable: str. The environment variable naming the tox environment
            (its `KERAS_BACKEND`) that runs these subprocesses.
    """
    chosen = chosen_env(variable)
    if os.environ.get("KERAS_BACKEND", "tensorflow") != chosen:
        pytest.skip(f"{what} is a TensorFlow subprocess, run from the "
                    f"{chosen} environment ({variable})")
    return dict(os.environ, KERAS_BACKEND="tensorflow")
