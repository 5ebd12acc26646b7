"""Fixtures of the trainer tests: subprocess runs of
`tests/pretraining/pretrain_script.py` and their outputs."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BACKEND = keras.backend.backend()

# One run configuration shared by the reference, distributed and resumed
# runs, so their losses and weights can be compared step by step.
STEPS = 12


def script_env(**extra):
    env = dict(os.environ)
    env.update(KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=REPO + os.pathsep + env.get("PYTHONPATH", ""),
               PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def script_command(output, *args):
    return [sys.executable, "-W", "ignore", "-m",
            "tests.pretraining.pretrain_script", "--output", str(output),
            "--steps", str(STEPS), "--log-every", "1", *map(str, args)]


def run_script(output, *args, env=None, timeout=240):
    """Runs the script to completion; returns its combined output."""
    proc = subprocess.run(script_command(output, *args), cwd=REPO,
                          env=env or script_env(), capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def read_log(run_dir):
    path = os.path.join(run_dir, "logs", "train_log.jsonl")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_checkpoint(path):
    with np.load(path) as data:
        meta = json.loads(bytes(data["__meta__"]).decode())
        model = [data[k] for k in sorted(data.files) if k.startswith("model/")]
        optimizer = [data[k] for k in sorted(data.files)
                     if k.startswith("optimizer/")]
    return meta, model, optimizer


@pytest.fixture(scope="session")
def subprocess_env(tmp_path_factory):
    """Environment of the script subprocesses. On JAX: 2 host devices (for
    DataParallel) and a persistent XLA cache shared by all of them, so the
    reference, killed and resumed runs compile their common program once
    (the cache key includes XLA_FLAGS, hence the same flags everywhere)."""
    extra = {}
    if BACKEND == "jax":
        extra = dict(
            XLA_FLAGS="--xla_force_host_platform_device_count=2",
            JAX_COMPILATION_CACHE_DIR=str(tmp_path_factory.mktemp("jax")),
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    return script_env(**extra)


@pytest.fixture(scope="session")
def reference_runs(tmp_path_factory, subprocess_env):
    """One subprocess: the single-replica reference run plus, on TensorFlow,
    the MirroredStrategy run on 2 logical CPUs and, on JAX, the DataParallel
    run on 2 host devices (same global batch, data and seed).

    Returns `(root, output)`: runs are in `root/<strategy>`.
    """
    root = tmp_path_factory.mktemp("reference")
    args = []
    if BACKEND == "tensorflow":
        args = ["--strategies", "none,mirrored", "--logical-cpus", "2"]
    elif BACKEND == "jax":
        args = ["--strategies", "none,data_parallel"]
    out = run_script(root, *args, env=subprocess_env)
    return str(root), out
