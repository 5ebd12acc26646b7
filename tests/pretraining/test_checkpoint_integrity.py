"""Checkpoints carry a SHA-256; a damaged newest checkpoint (truncated,
bit-flipped) is set aside with one warning line and the run resumes from
the newest intact one, continuing exactly like an uninterrupted run."""

import glob
import hashlib
import logging
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest

from keras_albert.pretraining import StepCheckpoint
from tests.pretraining.conftest import REPO
from tests.pretraining.conftest import STEPS
from tests.pretraining.conftest import read_checkpoint
from tests.pretraining.conftest import read_log
from tests.pretraining.conftest import run_script
from tests.pretraining.conftest import script_command
from tests.utils.test_atomic_files import _dead_pid


def small_model(seed=3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 3)), verbose=0)
    return model


def truncate(path):
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])


def flip_a_byte(path, where=0.4):
    with open(path, "r+b") as f:
        data = f.read()
        i = int(len(data) * where)
        f.seek(i)
        f.write(bytes([data[i] ^ 0x01]))


def empty(path):
    open(path, "wb").close()


DAMAGE = {"truncated": truncate, "bit-flipped": flip_a_byte, "empty": empty}


@pytest.fixture
def checkpoints(tmp_path):
    """A folder with checkpoints at batches 1, 2 and 3."""
    folder = str(tmp_path / "checkpoints")
    writer = StepCheckpoint(folder, save_every=1, keep=5)
    writer.set_model(small_model())
    for batches in (1, 2, 3):
        writer.save(batches)
    return folder


def test_each_checkpoint_has_its_sha256(checkpoints):
    for path in StepCheckpoint.list(checkpoints):
        with open(path + ".sha256") as f:
            digest, name = f.read().split()
        with open(path, "rb") as f:
            assert digest == hashlib.sha256(f.read()).hexdigest()
        assert name == os.path.basename(path)
        assert StepCheckpoint.verify(path) is None
    assert sorted(os.listdir(checkpoints)) == [
        f"ckpt-000000000{i}.npz{s}" for i in (1, 2, 3) for s in ("",
                                                                 ".sha256")]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_latest_falls_back_with_one_warning(checkpoints, caplog,
                                                    damage):
    latest = StepCheckpoint.latest(checkpoints)
    DAMAGE[damage](latest)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        found = StepCheckpoint.latest_intact(checkpoints)
    assert found.endswith("ckpt-0000000002.npz")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert latest in warnings[0] and f"resuming from {found}" in warnings[0]
    # Set aside, not deleted: out of the rotation, there for a person.
    assert os.path.isfile(latest + ".damaged")
    assert os.path.isfile(latest + ".damaged.sha256")
    assert StepCheckpoint.list(checkpoints)[-1] == found
    meta = StepCheckpoint.restore(small_model(seed=9), found)
    assert meta["batches"] == 2


def test_several_damaged_and_none_left(checkpoints, caplog):
    paths = StepCheckpoint.list(checkpoints)
    flip_a_byte(paths[2])
    truncate(paths[1])
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        assert StepCheckpoint.latest_intact(checkpoints).endswith(
            "ckpt-0000000001.npz")
    (message,) = [r.getMessage() for r in caplog.records]
    assert paths[2] in message and paths[1] in message
    caplog.clear()
    empty(paths[0])
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        assert StepCheckpoint.latest_intact(checkpoints) is None
    (message,) = [r.getMessage() for r in caplog.records]
    assert "starts from the beginning" in message


def test_readers_leave_damaged_files_in_place(checkpoints):
    latest = StepCheckpoint.latest(checkpoints)
    truncate(latest)
    found = StepCheckpoint.latest_intact(checkpoints, set_aside=False)
    assert found.endswith("ckpt-0000000002.npz")
    assert os.path.isfile(latest)


def test_restoring_a_damaged_checkpoint_says_so(checkpoints):
    latest = StepCheckpoint.latest(checkpoints)
    flip_a_byte(latest)
    with pytest.raises(ValueError, match="is damaged.*SHA-256"):
        StepCheckpoint.restore(small_model(), latest)


def test_checkpoints_without_checksums_are_checked_by_their_crc(
        checkpoints):
    # Checkpoints written before checksums existed.
    for path in glob.glob(os.path.join(checkpoints, "*.sha256")):
        os.remove(path)
    paths = StepCheckpoint.list(checkpoints)
    assert StepCheckpoint.verify(paths[0]) is None
    truncate(paths[2])
    flip_a_byte(paths[1], where=0.05)  # inside the first array's data
    assert "cannot be read" in StepCheckpoint.verify(paths[2])
    assert StepCheckpoint.verify(paths[1]) is not None
    assert StepCheckpoint.latest_intact(checkpoints) == paths[0]


def test_remove_partial_cleans_what_a_killed_save_left(checkpoints):
    dead = _dead_pid()
    staging = os.path.join(
        checkpoints, f".ckpt-0000000004.npz.sha256.tmp-{dead}-0a1b2c3d")
    os.mkdir(staging)
    open(os.path.join(checkpoints, "ckpt-0000000009.npz.sha256"), "w").close()
    open(os.path.join(checkpoints, "ckpt-0000000005.npz.tmp-123"),
         "w").close()
    StepCheckpoint.remove_partial(checkpoints)
    assert sorted(os.listdir(checkpoints)) == [
        f"ckpt-000000000{i}.npz{s}" for i in (1, 2, 3) for s in ("",
                                                                 ".sha256")]


def test_old_checkpoints_are_pruned_with_their_checksums(tmp_path):
    folder = str(tmp_path / "c")
    writer = StepCheckpoint(folder, save_every=1, keep=2)
    writer.set_model(small_model())
    for batches in (1, 2, 3):
        writer.save(batches)
    assert sorted(os.listdir(folder)) == [
        f"ckpt-000000000{i}.npz{s}" for i in (2, 3) for s in ("", ".sha256")]


CHECKPOINT_EVERY = 3


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, subprocess_env):
    """A complete tiny run (checkpoints at 9 and 12) and its log and final
    state, as an uninterrupted reference."""
    root = tmp_path_factory.mktemp("finished")
    run_script(root, "--checkpoint-every", CHECKPOINT_EVERY,
               env=subprocess_env)
    run_dir = os.path.join(root, "none")
    final = sorted(glob.glob(os.path.join(run_dir, "checkpoints",
                                          "*.npz")))[-1]
    return str(root), read_log(run_dir), read_checkpoint(final)


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
def test_resume_from_a_damaged_latest_checkpoint(finished_run, tmp_path,
                                                 subprocess_env, damage):
    source, reference_log, (_, ref_weights, ref_optimizer) = finished_run
    root = tmp_path / "run"
    shutil.copytree(source, root)
    run_dir = root / "none"
    checkpoints = sorted(glob.glob(str(run_dir / "checkpoints" / "*.npz")))
    assert [os.path.basename(p) for p in checkpoints] == [
        "ckpt-0000000009.npz", "ckpt-0000000012.npz"]
    DAMAGE[damage](checkpoints[-1])

    proc = subprocess.run(
        script_command(root, "--checkpoint-every", CHECKPOINT_EVERY),
        cwd=REPO, env=subprocess_env, capture_output=True, text=True,
        timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    warnings = [line for line in out.splitlines()
                if "Damaged checkpoint" in line]
    assert len(warnings) == 1, out[-4000:]
    assert checkpoints[-1] in warnings[0]
    assert f"resuming from {checkpoints[0]} instead" in warnings[0]
    assert f"DONE none initial_step=9 final_step={STEPS}" in out
    assert os.path.isfile(checkpoints[-1] + ".damaged")

    # Steps 10..12 again, with the numbers of the uninterrupted run.
    resumed = read_log(run_dir)[len(reference_log):]
    assert [r["step"] for r in resumed] == list(range(10, STEPS + 1))
    expected = {r["step"]: r for r in reference_log}
    for record in resumed:
        ref = expected[record["step"]]
        np.testing.assert_allclose(record["loss"], ref["loss"], rtol=2e-4)
        np.testing.assert_allclose(record["learning_rate"],
                                   ref["learning_rate"], rtol=1e-6)
    meta, weights, optimizer = read_checkpoint(checkpoints[-1])
    assert meta["batches"] == STEPS
    for a, b in zip(weights + optimizer, ref_weights + ref_optimizer):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
