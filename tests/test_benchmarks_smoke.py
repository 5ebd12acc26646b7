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


def _quick_tensorflow_run(script, *arguments):
    """Runs `script --quick *arguments` (skipped on other backends: the
    benchmark runs on TensorFlow); returns its stdout."""
    import pytest

    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        pytest.skip(f"{os.path.basename(script)} runs on the TensorFlow "
                    "backend")
    proc = subprocess.run(
        [sys.executable, script, "--quick", *arguments],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
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


EARLY_EXIT_SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "early_exit.py")


def test_early_exit_quick_run(tmp_path):
    out_json = tmp_path / "early_exit.json"
    header, rows = _table_rows(_quick_tensorflow_run(
        EARLY_EXIT_SCRIPT, "--json", str(out_json)))
    for column in ("model", "patience", "accuracy", "mean layers",
                   "ms batch 1", "speedup batch 1", "texts/s batch 32"):
        assert column in header
    report = json.loads(out_json.read_text())
    layers = report["settings"]["num_layers"]
    # The full-depth classifier, then every patience 1..num_layers.
    assert [row["patience"] for row in rows] == ["-"] + [
        str(p) for p in range(1, layers + 1)]
    for row in rows:
        assert 0.0 <= float(row["accuracy"]) <= 1.0, row
        assert 1.0 <= float(row["mean layers"]) <= layers, row
        assert float(row["ms batch 1"]) > 0, row
    # Patience p stops after at least p + 1 layers; full patience runs all
    # of them and predicts as the full-depth classifier it was built from.
    for result in report["results"][1:]:
        assert result["mean_layers"] >= min(result["patience"] + 1, layers)
    assert report["results"][-1]["mean_layers"] == layers
    assert report["results"][-1]["accuracy"] == report["results"][0][
        "accuracy"]
