"""Fault injection: a write that fails at any step, by an exception inside
any writer call or by the disk filling up, leaves the previous artifact
loadable with the same outputs and no temporary files behind.

Covered: `save_to_preset` in all three formats, `export_saved_model`,
`export_tflite` and pretraining checkpoints (`StepCheckpoint.save`).

Each operation is first run cleanly while every writer call (file opens
for writing, `json.dump`, weight and tensor writers, renames, fsyncs,
directory and link creation) is recorded with its call site; then it is
run again failing at the first and at the last call of each site, the
previous artifact being restored from a pristine copy before each run
(exports: the first call of each writer in each module, see `THOROUGH`).
Disk full is simulated in a subprocess (`fault_child`): SIGXFSZ ignored
and `RLIMIT_FSIZE` lowered, so writes past the limit fail with EFBIG.
"""

import builtins
import contextlib
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.reliability.fault_child import build_models
from tests.reliability.fault_child import checkpoint_model
from tests.utils.test_atomic_files import tree

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="SavedModel and TFLite export are traced from TensorFlow here")
TEXTS = ["a fine film", "the lazy dog", "numbers like 1, 2 and 3"]


class InjectedFault(OSError):
    """What a patched writer raises (errno ENOSPC, like a full disk)."""

    def __init__(self):
        super().__init__(28, "No space left on device (injected)")


def _writers():
    """`(owner, attribute, only_paths_under_root)` of every writer call."""
    import safetensors.numpy
    import tensorflow as tf

    from keras_albert import AlbertTokenizer
    from keras_albert.utils import compat

    return [
        (builtins, "open", True), (json, "dump", False),
        (compat, "save_weights_h5", False),
        (safetensors.numpy, "save_file", False),
        (tf.raw_ops, "SaveV2", False),
        (keras.export.ExportArchive, "write_out", False),
        (AlbertTokenizer, "save_assets", False), (np, "savez", False),
        (os, "mkdir", True), (os, "rename", True), (os, "replace", True),
        (os, "link", True), (os, "fsync", False),
    ]


def _is_write(attribute, args, kwargs, root):
    if attribute == "open":
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        if not any(c in str(mode) for c in "wax+"):
            return False
    path = args[0] if args else None
    return isinstance(path, (str, os.PathLike)) and os.path.abspath(
        os.fspath(path)).startswith(root)


@contextlib.contextmanager
def writer_calls(root, fail_at=None):
    """Records every writer call as `(attribute, caller file, line)`; the
    `fail_at`-th (from 1) raises `InjectedFault`."""
    calls = []
    patches = []

    def patch(owner, attribute, under_root):
        original = getattr(owner, attribute)

        def wrapper(*args, **kwargs):
            caller = sys._getframe(1)
            # `os.makedirs(exist_ok=True)` handles its own mkdir errors.
            internal = caller.f_code.co_filename == "<frozen os>"
            if not internal and (
                    not under_root or _is_write(attribute, args, kwargs,
                                                root)):
                calls.append((attribute, caller.f_code.co_filename,
                              caller.f_lineno))
                if len(calls) == fail_at:
                    raise InjectedFault()
            return original(*args, **kwargs)

        patches.append((owner, attribute, original))
        setattr(owner, attribute, wrapper)

    try:
        for owner, attribute, under_root in _writers():
            patch(owner, attribute, under_root)
        yield calls
    finally:
        for owner, attribute, original in reversed(patches):
            setattr(owner, attribute, original)


# Exports re-trace the model for every fault point, so in CI they fail once
# per (writer, module) pair; `KERAS_ALBERT_FAULTS=thorough` fails them at
# every call site (line) as the other operations always are.
THOROUGH = os.environ.get("KERAS_ALBERT_FAULTS") == "thorough"


def fault_points(calls, last=True, per_line=True):
    """1-based indices of the first (and with `last`, the last) call of
    each call site: a line, or with `per_line=False` a (writer, module)
    pair."""
    firsts, lasts = {}, {}
    for index, site in enumerate(calls, start=1):
        if not per_line:
            site = site[:2]
        firsts.setdefault(site, index)
        lasts[site] = index
    return sorted(set(firsts.values()) | set(lasts.values() if last else ()))


def restore(pristine, target):
    """Puts the pristine copy of an artifact folder back at `target`."""
    if os.path.lexists(target):
        shutil.rmtree(target)
    shutil.copytree(pristine, target, symlinks=True)


def run_with_faults(root, artifact, operation, check_previous, check_new,
                    last=True, per_line=True):
    """Fails `operation` at every fault point (`fault_points`); the folder
    `artifact` (the previous artifact, and nothing else in its parent) must
    be unchanged after each failure. Returns the number of points tried."""
    parent = os.path.dirname(artifact)
    pristine = os.path.join(os.path.dirname(root), "pristine")
    shutil.copytree(artifact, pristine, symlinks=True)
    names, before = sorted(os.listdir(parent)), tree(artifact)
    with writer_calls(root) as calls:
        operation()
    check_new()
    points = fault_points(list(calls), last, per_line or THOROUGH)
    assert points, "no writer call was seen"
    for k in points:
        restore(pristine, artifact)
        with writer_calls(root, fail_at=k) as calls:
            try:
                operation()
                error = None
            except Exception as e:  # noqa: BLE001 - checked below
                error = e
        where = calls[k - 1]
        assert sorted(os.listdir(parent)) == names, (k, where)
        if error is None:
            # A step with a fallback (os.link -> a copy): the write must
            # then have completed.
            assert where[0] in FALLBACKS, (k, where)
            check_new()
            continue
        assert isinstance(error, InjectedFault) or (
            isinstance(error.__context__, InjectedFault)), (k, where, error)
        assert tree(artifact) == before, (k, where)
        if k in (points[0], points[-1]):
            check_previous()
    restore(pristine, artifact)
    return len(points)


# Writer calls whose failure the library handles by another way.
FALLBACKS = ("link",)


@pytest.fixture(scope="module")
def models(spm_path):
    """`(previous, new)`: two tiny classifiers with different weights."""
    return build_models(spm_path, seed=1), build_models(spm_path, seed=2)


def outputs(model):
    return keras.ops.convert_to_numpy(model(model.preprocessor.pack(TEXTS)))


def preset_outputs(path):
    from keras_albert import AlbertClassifier

    return outputs(AlbertClassifier.from_preset(path))


@pytest.mark.parametrize("fmt", ["keras_albert", "hf", "google"])
def test_save_to_preset_fails_cleanly_at_every_step(models, tmp_path, fmt):
    previous, new = models
    root = str(tmp_path / "out")
    target = os.path.join(root, "preset")
    previous.save_to_preset(target, format=fmt)
    want = preset_outputs(target)

    def check_previous():
        np.testing.assert_allclose(preset_outputs(target), want, atol=1e-6)

    def check_new():
        np.testing.assert_allclose(preset_outputs(target), outputs(new),
                                   atol=1e-5)

    tried = run_with_faults(
        root, target, lambda: new.save_to_preset(target, format=fmt),
        check_previous, check_new)
    assert tried >= 8


@TF_ONLY
def test_export_saved_model_fails_cleanly_at_every_step(models, tmp_path):
    import tensorflow as tf

    from keras_albert.export import export_saved_model

    previous, new = models
    root = str(tmp_path / "out")
    target = os.path.join(root, "1")
    export_saved_model(previous, target)
    tokens = {k: tf.constant(v) for k, v in
              previous.preprocessor.pack(TEXTS).items()}

    def served(path):
        loaded = tf.saved_model.load(path)
        return loaded.signatures["serve_token_ids"](**tokens)["logits"]

    want = served(target)
    tried = run_with_faults(
        root, target, lambda: export_saved_model(new, target),
        lambda: np.testing.assert_allclose(served(target), want, atol=1e-6),
        lambda: np.testing.assert_allclose(served(target), outputs(new),
                                           atol=1e-5),
        last=False, per_line=False)  # each export re-traces
    assert tried >= 5


@TF_ONLY
def test_export_tflite_fails_cleanly_at_every_step(models, tmp_path):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    previous, new = models
    root = str(tmp_path / "out")
    folder = os.path.join(root, "tflite")
    path = os.path.join(folder, "model.tflite")
    export_tflite(previous, path)
    # Another model's export in the same folder must never be touched.
    export_tflite(previous, os.path.join(folder, "other.tflite"))

    def run(p):
        return TFLiteModel(p).predict_text(TEXTS)["logits"]

    want = run(path)
    tried = run_with_faults(
        root, folder, lambda: export_tflite(new, path),
        lambda: np.testing.assert_allclose(run(path), want, atol=1e-6),
        lambda: np.testing.assert_allclose(run(path), outputs(new),
                                           atol=1e-3),
        last=False, per_line=False)  # each export converts again
    assert tried >= 5


def test_checkpoint_write_fails_cleanly_at_every_step(tmp_path):
    from keras_albert.pretraining import StepCheckpoint

    root = str(tmp_path / "out")
    folder = os.path.join(root, "checkpoints")
    writer = StepCheckpoint(folder, save_every=1, keep=5)
    writer.set_model(checkpoint_model(seed=1))
    writer.save(1)
    want = [np.array(v) for v in writer.model.get_weights()]

    def check_previous():
        latest = StepCheckpoint.latest_intact(folder)
        assert latest.endswith("ckpt-0000000001.npz")
        model = checkpoint_model(seed=9)
        StepCheckpoint.restore(model, latest)
        for a, b in zip(model.get_weights(), want):
            np.testing.assert_array_equal(a, b)

    def check_new():
        latest = StepCheckpoint.latest_intact(folder)
        assert latest.endswith("ckpt-0000000002.npz")

    tried = run_with_faults(root, folder, lambda: writer.save(2),
                            check_previous, check_new)
    assert tried >= 5


def test_disk_full_never_crashes_nor_loses_the_previous_artifact(
        models, spm_path, tmp_path, subprocess_env):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_saved_model
    from keras_albert.export import export_tflite
    from keras_albert.pretraining import StepCheckpoint

    previous, _ = models
    scenarios = []

    def add(kind, limits, make):
        for limit in limits:
            folder = tmp_path / f"{kind}-{limit}"
            folder.mkdir()
            target = make(str(folder))
            scenarios.append(dict(kind=kind, target=target, limit=limit,
                                  folder=str(folder),
                                  before=tree(str(folder)),
                                  names=sorted(os.listdir(folder)),
                                  want=read(kind, target)))

    def read(kind, target):
        """What the artifact computes (or, for a checkpoint, holds)."""
        if kind.startswith("preset-"):
            return preset_outputs(target)
        if kind == "tflite":
            return TFLiteModel(target).predict_text(TEXTS)["logits"]
        if kind == "checkpoint":
            return StepCheckpoint.read_metadata(
                StepCheckpoint.latest_intact(target))["batches"]
        return None  # a SavedModel: its bytes are compared

    def preset(fmt):
        def make(folder):
            target = os.path.join(folder, "preset")
            previous.save_to_preset(target, format=fmt)
            return target
        return make

    for fmt in ("keras_albert", "hf", "google"):
        # 1 B: nothing fits; 3 kB: configs fit; 60/100 kB: some weights fit.
        add(f"preset-{fmt}", [1, 3000, 60000, 100000], preset(fmt))

    def checkpoint(folder):
        writer = StepCheckpoint(os.path.join(folder, "ckpt"), save_every=1)
        writer.set_model(checkpoint_model(seed=1))
        writer.save(1)
        return writer.directory

    add("checkpoint", [1, 1000], checkpoint)
    if keras.backend.backend() == "tensorflow":
        def saved_model(folder):
            return export_saved_model(previous, os.path.join(folder, "1"))

        def tflite(folder):
            return export_tflite(previous, os.path.join(folder, "m.tflite"))

        add("saved_model", [1, 60000], saved_model)
        add("tflite", [1, 60000], tflite)

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(dict(spm=spm_path, scenarios=[
        {k: s[k] for k in ("kind", "target", "limit")} for s in scenarios])))
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-m",
         "tests.reliability.fault_child", str(spec)],
        cwd=REPO, env=subprocess_env, capture_output=True, text=True,
        timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]  # no crash (h5py used to)
    results = dict(line.split()[1:3] for line in proc.stdout.splitlines()
                   if line.startswith("RESULT "))
    assert len(results) == len(scenarios), out[-3000:]
    checked = set()
    for index, scenario in enumerate(scenarios):
        name = f"{scenario['kind']} at {scenario['limit']} B"
        assert results[str(index)] != "ok", name
        assert sorted(os.listdir(scenario["folder"])) == scenario["names"], (
            name)
        assert tree(scenario["folder"]) == scenario["before"], name
        kind = scenario["kind"]
        if kind in checked:
            continue  # the same bytes load the same for every limit
        checked.add(kind)
        got = read(kind, scenario["target"])
        if scenario["want"] is not None:
            np.testing.assert_array_equal(got, scenario["want"], name)


@pytest.fixture(scope="module")
def subprocess_env():
    env = dict(os.environ)
    env.update(KERAS_BACKEND=keras.backend.backend(),
               TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=REPO + os.pathsep + env.get("PYTHONPATH", ""))
    return env
