"""Every notebook runs end to end with its CI parameters (tiny preset, tiny
local data) on the TensorFlow backend, and the quickstart also on JAX and
PyTorch. A cell that raises fails the test with the runner's one-line
message naming the notebook, the cell and the exception.

Each run is `notebooks/run_notebooks.py run` in a subprocess whose Jupyter
kernel is another. The TensorFlow runs set their own backend, so they are
made from one tox environment only: the one named by
KERAS_ALBERT_NOTEBOOK_ENV (tox.ini), else the tensorflow one; the
quickstart's JAX and PyTorch runs are made from the environment of that
backend.
"""

import os
import subprocess
import sys

import keras
import pytest

from tests.notebooks import REPO_ROOT
from tests.notebooks import RUNNER_PATH
from tests.notebooks import runner
from tests.subprocess_env import tensorflow_subprocess_env

# Each notebook takes under 90 s with its CI parameters on 2 idle cores;
# the limit leaves room for a loaded CI machine.
NOTEBOOK_TIMEOUT_S = 300
QUICKSTART = os.path.join(runner.NOTEBOOKS_DIR, "01_quickstart.ipynb")


def _run(path, backend, env):
    name = os.path.basename(path)
    proc = subprocess.run(
        [sys.executable, RUNNER_PATH, "run", name, "--backend", backend,
         "--timeout", str(NOTEBOOK_TIMEOUT_S)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env,
        # The runner enforces the limit; this one catches a hung kernel.
        timeout=NOTEBOOK_TIMEOUT_S + 120,
    )
    if proc.returncode != 0:
        failed = [line for line in proc.stderr.splitlines()
                  if line.startswith("FAILED ")]
        pytest.fail(failed[-1] if failed else proc.stderr[-3000:],
                    pytrace=False)
    assert f"notebooks/{name}: ran on {backend}" in proc.stdout, proc.stdout


@pytest.mark.parametrize(
    "path", runner.notebook_paths(), ids=os.path.basename)
def test_notebook_runs_on_tensorflow(path):
    env = tensorflow_subprocess_env(
        f"notebooks/{os.path.basename(path)}", "KERAS_ALBERT_NOTEBOOK_ENV")
    _run(path, "tensorflow", env)


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow",
    reason="the quickstart's TensorFlow run is test_notebook_runs_on_tensorflow")
def test_quickstart_runs_on_this_backend():
    backend = keras.backend.backend()
    _run(QUICKSTART, backend, dict(os.environ, KERAS_BACKEND=backend))
