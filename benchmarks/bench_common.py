"""What the benchmark scripts share: starting worker subprocesses (one per
Keras backend or library, since Keras fixes its backend per process),
reading their marked JSON result lines, and printing Markdown tables.

The scripts run as `python benchmarks/<script>.py`, so this folder is on
`sys.path` and they import this module as `bench_common`.

Example:
```python
from bench_common import markdown_table, parse_marked, run_subprocess

stdout, stderr, code = run_subprocess(argv, "jax", timeout=600)
results = parse_marked(stdout, "@@RESULT@@ ")
print(markdown_table(("name", "value"), [["a", "1"]]))
```
"""

import argparse
import json
import os
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_env(backend):
    """The environment of a worker: `KERAS_BACKEND=backend` (else the
    caller's, else TensorFlow), quiet TensorFlow, no Hugging Face downloads,
    and keras_albert imported from this checkout."""
    env = dict(os.environ)
    env["KERAS_BACKEND"] = backend or env.get("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p
    )
    return env


def run_subprocess(argv, backend, timeout):
    """Runs `argv` under `worker_env(backend)` from the repository root.

    Returns:
        `(stdout, stderr, returncode)`; `returncode` is None when the
        process was killed after `timeout` seconds (its output so far is
        returned).
    """
    try:
        proc = subprocess.run(
            argv, env=worker_env(backend), capture_output=True, text=True,
            timeout=timeout, cwd=REPO_ROOT,
        )
        return proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        def text(x):
            if isinstance(x, bytes):
                return x.decode("utf-8", "replace")
            return x or ""

        return text(exc.stdout), text(exc.stderr), None


def parse_marked(stdout, marker):
    """The JSON payloads of the lines of `stdout` that start with
    `marker`."""
    return [
        json.loads(line[len(marker):])
        for line in stdout.splitlines()
        if line.startswith(marker)
    ]


def markdown_table(columns, rows):
    """A Markdown pipe table with padded cells.

    Args:
        columns: the header cells.
        rows: lists of cell strings, as many as `columns` each.
    """
    widths = [
        max([len(columns[i])] + [len(row[i]) for row in rows])
        for i in range(len(columns))
    ]

    def line(cells):
        return "| " + " | ".join(
            c.ljust(w) for c, w in zip(cells, widths)
        ) + " |"

    out = [line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in rows]
    return "\n".join(out)


def add_common_options(parser, timeout):
    """`--timeout` (default `timeout` seconds), `--json`, `-v` and the
    hidden `--worker` by which the parent starts a worker."""
    parser.add_argument("--timeout", type=float, default=timeout,
                        help="seconds before a worker is killed")
    parser.add_argument("--json", help="also write all results here")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
