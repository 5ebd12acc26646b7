"""Smoke test for `benchmarks/encoder_throughput.py`: a tiny-model run on the
current Keras backend must finish, print a parsable table with one row per
implementation, and write valid JSON. Keeps the benchmark from rotting.

Designed to take well under 30 s on an idle 2-core machine (three worker
processes run side by side in `--quick` mode; most of the time is imports).
"""

import json
import os
import subprocess
import sys

from tests.subprocess_env import tensorflow_subprocess_env

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "encoder_throughput.py")


def _table_rows(stdout):
    lines = [ln for ln in stdout.splitlines() if ln.startswith("|")]
    assert len(lines) >= 3, stdout
    header = [c.strip() for c in lines[0].strip().strip("|").split("|")]
    assert set(lines[1].strip().strip("|").replace("|", "")) == {"-"}
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells)))
    return header, rows


def test_quick_run_prints_parsable_table(tmp_path):
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable, SCRIPT, "--quick", "--iters", "1", "--warmup",
            "0", "--backends", backend, "--json", str(out_json),
        ],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]

    header, rows = _table_rows(proc.stdout)
    for column in ("implementation", "backend", "setting", "tokens/s",
                   "first call s", "vs KerasHub", "vs transformers"):
        assert column in header
    implementations = {row["implementation"] for row in rows}
    assert implementations == {"ours", "keras_hub", "transformers"}
    for row in rows:
        assert float(row["tokens/s"]) > 0, row
        assert float(row["first call s"]) >= 0, row
        if row["implementation"] != "transformers":
            assert row["backend"] == backend
            assert float(row["vs KerasHub"].rstrip("*")) > 0, row
        assert float(row["vs transformers"]) > 0, row
    for row in rows:
        if row["implementation"] == "keras_hub":
            assert row["vs KerasHub"] == "1.00"

    report = json.loads(out_json.read_text())
    assert len(report["results"]) == len(rows)
    assert all(r["status"] == "ok" for r in report["results"])
    # Same architecture in all three implementations.
    assert len({r["params"] for r in report["results"]}) == 1


EXPORT_SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "export_latency.py")

# The other smoke runs are TensorFlow subprocesses that set their own
# backend, so they run from one test environment only: the one named by
# KERAS_ALBERT_SMOKE_ENV (tox.ini: torch, its shortest environment), else
# the tensorflow one.


def _tensorflow_subprocess_env(script):
    """The environment of a TensorFlow smoke run of `script`; skips the
    test outside the KERAS_ALBERT_SMOKE_ENV test environment."""
    return tensorflow_subprocess_env(
        f"{os.path.basename(script)}'s smoke run", "KERAS_ALBERT_SMOKE_ENV")


def _quick_tensorflow_run(script, *arguments):
    """Runs `script --quick *arguments` on TensorFlow (see `SMOKE_ENV`);
    returns its stdout."""
    env = _tensorflow_subprocess_env(script)
    proc = subprocess.run(
        [sys.executable, script, "--quick", *arguments],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return proc.stdout


def test_export_latency_quick_run(tmp_path):
    out_json = tmp_path / "export.json"
    stdout = _quick_tensorflow_run(EXPORT_SCRIPT, "--iters", "1",
                                   "--warmup", "0", "--json", str(out_json))
    header, rows = _table_rows(stdout)
    for column in ("artifact", "ms/call", "size MB", "max abs diff",
                   "same labels"):
        assert column in header
    artifacts = [row["artifact"] for row in rows]
    assert artifacts == [
        "keras", "saved_model ids", "saved_model text", "tflite float32",
        "tflite float16", "tflite dynamic_int8",
        "transformers (torch eager)",
    ]
    for row in rows:
        assert float(row["ms/call"]) > 0, row
        if row["artifact"].startswith(("saved_model ids", "tflite")):
            assert row["same labels"] == "yes", row
    report = json.loads(out_json.read_text())
    sizes = {r["artifact"]: r["size MB"] for r in report["results"]}
    assert sizes["tflite dynamic_int8"] < sizes["tflite float32"]
    exact = {r["artifact"]: r["max abs diff"] for r in report["results"]}
    assert exact["tflite float32"] < 1e-4
    assert exact["saved_model ids"] < 1e-5


REAL_TEXT_SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "real_text.py")


def test_real_text_quick_run(tmp_path):
    """`real_text.py --quick`: every library reports every workload, the
    three share one set of weights, and keras_albert variants either ran
    or say they are not available in this version."""
    env = _tensorflow_subprocess_env(REAL_TEXT_SCRIPT)
    out_json = tmp_path / "real_text.json"
    proc = subprocess.run(
        [sys.executable, REAL_TEXT_SCRIPT, "--quick", "--backend",
         "tensorflow", "--json", str(out_json)],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "real text: 48 texts" in proc.stdout, proc.stdout
    header, rows = _table_rows(proc.stdout)
    for column in ("library", "variant", "workload", "1st texts/s",
                   "warm texts/s", "shapes", "computed/useful",
                   "peak RSS MB", "vs KerasHub 1st", "vs transformers 1st"):
        assert column in header
    workloads = ("first call", "predict real", "predict short", "fit real")
    measured = {(r["library"], r["workload"]) for r in rows
                if r["variant"] == "default"}
    for library in ("keras_albert", "keras_hub", "transformers"):
        for workload in workloads:
            assert (library, workload) in measured, (library, workload)
    variants = {r["variant"] for r in rows if r["library"] == "keras_albert"}
    assert {"default", "sort_by_length=False", "length_buckets=None",
            "tokens_per_batch=4096"} <= variants
    for row in rows:
        if row["workload"] == "-":
            assert row["1st s"] == "not available in this version", row
            continue
        assert float(row["1st texts/s"]) > 0, row
        assert float(row["warm texts/s"]) > 0, row
        assert int(row["shapes"]) >= 1, row
        assert float(row["computed/useful"]) >= 1.0, row
        if row["library"] == "keras_hub":
            assert row["vs KerasHub 1st"] == "1.00", row
    # KerasHub pads every batch to 512; short sentences waste most of it.
    short = {r["library"]: float(r["computed/useful"]) for r in rows
             if r["workload"] == "predict short" and r["variant"] == "default"}
    assert short["keras_hub"] > short["keras_albert"], short

    report = json.loads(out_json.read_text())
    # One set of weights: the conversion and transformers agree with ours.
    assert report["conversion_max_abs_diff"] < 1e-5
    assert report["keras_albert_vs_transformers_max_abs_diff"] < 1e-4
    assert not [r for r in report["results"] if r["status"] == "error"]
    assert report["real_stats"]["count"] == 48


INT8_SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "int8.py")


def test_int8_quick_run(tmp_path):
    env = _tensorflow_subprocess_env(INT8_SCRIPT)
    out_json = tmp_path / "int8.json"
    proc = subprocess.run(
        [sys.executable, INT8_SCRIPT, "--quick", "--no-tflite",
         "--backends", "tensorflow", "--json", str(out_json)],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    header, rows = _table_rows(proc.stdout)
    assert {(r["setting"], r["model"]) for r in rows} == {
        (s, m) for s in ("graph", "xla") for m in ("keras float",
                                                   "keras int8")}
    for row in rows:
        assert float(row["ms/batch"]) > 0, row
    results = json.loads(out_json.read_text())["results"]
    int8 = [r for r in results if r["model"] == "keras int8"]
    # Quantized on the same weights: close to float, not equal to it.
    assert all(0 < r["max abs diff"] < 0.05 for r in int8), int8


EARLY_EXIT_SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "early_exit.py")


def test_early_exit_quick_run(tmp_path):
    out_json = tmp_path / "early_exit.json"
    header, rows = _table_rows(_quick_tensorflow_run(
        EARLY_EXIT_SCRIPT, "--json", str(out_json)))
    for column in ("model", "training", "patience", "accuracy",
                   "mean layers", "ms batch 1", "speedup batch 1",
                   "texts/s batch 32"):
        assert column in header
    report = json.loads(out_json.read_text())
    layers = report["settings"]["num_layers"]
    patiences = [str(p) for p in range(1, layers + 1)]
    # The full-depth classifier, then every patience 1..num_layers of the
    # exits trained on it (frozen) and of PABEE's joint fine-tuning.
    assert [row["patience"] for row in rows] == ["-"] + 2 * patiences
    assert [row["training"] for row in rows[1:]] == (
        [rows[1]["training"]] * layers + [rows[-1]["training"]] * layers)
    assert rows[1]["training"] != rows[-1]["training"]
    for row in rows:
        assert 0.0 <= float(row["accuracy"]) <= 1.0, row
        assert 1.0 <= float(row["mean layers"]) <= layers, row
        assert float(row["ms batch 1"]) > 0, row
    # Patience p stops after at least p + 1 layers; full patience runs all
    # of them, and on the frozen classifier predicts as the full-depth
    # classifier it was built from.
    results = report["results"]
    for result in results[1:]:
        assert result["mean_layers"] >= min(result["patience"] + 1, layers)
    frozen_full, joint_full = results[layers], results[-1]
    assert frozen_full["mean_layers"] == joint_full["mean_layers"] == layers
    assert frozen_full["accuracy"] == results[0]["accuracy"]
