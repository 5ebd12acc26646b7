"""A pretraining process killed with SIGKILL resumes from its last
checkpoint and ends exactly where an uninterrupted run ends."""

import glob
import os
import signal
import subprocess
import time

import numpy as np

from tests.pretraining.conftest import REPO
from tests.pretraining.conftest import STEPS
from tests.pretraining.conftest import read_checkpoint
from tests.pretraining.conftest import read_log
from tests.pretraining.conftest import script_command

CHECKPOINT_EVERY = 3


def test_resume_after_sigkill(tmp_path, reference_runs, subprocess_env):
    reference_root, _ = reference_runs
    reference = os.path.join(reference_root, "none")
    env = subprocess_env
    run_dir = tmp_path / "none"
    command = script_command(tmp_path, "--checkpoint-every", CHECKPOINT_EVERY)

    # 1. Train slowly; SIGKILL as soon as the first checkpoint is on disk.
    victim = subprocess.Popen(command + ["--sleep", "0.3"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    try:
        while not glob.glob(str(run_dir / "checkpoints" / "ckpt-*.npz")):
            assert victim.poll() is None, victim.stdout.read()[-3000:]
            assert time.time() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    checkpoints = sorted(glob.glob(str(run_dir / "checkpoints" / "*.npz")))
    meta, _, _ = read_checkpoint(checkpoints[-1])
    killed_at = meta["batches"]
    assert 0 < killed_at < STEPS and killed_at % CHECKPOINT_EVERY == 0
    logged_before = len(read_log(run_dir))

    # 2. Restart the same command: it resumes from the checkpoint.
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f"update {killed_at}/{STEPS}" in out
    assert f"DONE none initial_step={killed_at} final_step={STEPS}" in out

    # The resumed process logs from the checkpointed step on, and the
    # optimizer's own counter (which drives the schedule) agrees.
    resumed = read_log(run_dir)[logged_before:]
    assert [r["step"] for r in resumed] == list(
        range(killed_at + 1, STEPS + 1))
    assert all(r["optimizer_iterations"] == r["step"] for r in resumed)

    # Nothing trained before the kill was lost: the resumed run continues the
    # uninterrupted run step for step (same data, same schedule) and ends
    # with the same weights and optimizer state.
    expected = {r["step"]: r for r in read_log(reference)}
    for record in resumed:
        ref = expected[record["step"]]
        np.testing.assert_allclose(record["loss"], ref["loss"], rtol=2e-4)
        np.testing.assert_allclose(record["learning_rate"],
                                   ref["learning_rate"], rtol=1e-6)
    final_meta, weights, optimizer = read_checkpoint(
        sorted(glob.glob(str(run_dir / "checkpoints" / "*.npz")))[-1])
    _, ref_weights, ref_optimizer = read_checkpoint(sorted(
        glob.glob(os.path.join(reference, "checkpoints", "*.npz")))[-1])
    assert final_meta["batches"] == STEPS
    for a, b in zip(weights + optimizer, ref_weights + ref_optimizer):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert os.path.isfile(run_dir / "preset" / "config.json")
