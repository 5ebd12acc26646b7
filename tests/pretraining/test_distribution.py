"""Data-parallel pretraining gives the single-replica losses at the same
global batch: MirroredStrategy (2 logical CPUs) and MultiWorkerMirrored
(2 worker processes on 127.0.0.1) on TensorFlow, DataParallel (2 host
devices) on JAX."""

import json
import os
import socket
import subprocess
import time

import numpy as np
import pytest

from tests.pretraining.conftest import BACKEND
from tests.pretraining.conftest import REPO
from tests.pretraining.conftest import STEPS
from tests.pretraining.conftest import read_log
from tests.pretraining.conftest import script_command
from tests.pretraining.conftest import script_env


def assert_same_losses(run, reference, rtol=1e-3):
    got, want = read_log(run), read_log(reference)
    assert [r["step"] for r in got] == list(range(1, STEPS + 1))
    for key in ("loss", "mlm_loss", "sop_loss", "learning_rate"):
        np.testing.assert_allclose([r[key] for r in got],
                                   [r[key] for r in want], rtol=rtol,
                                   atol=1e-6, err_msg=key)


@pytest.mark.skipif(BACKEND != "tensorflow",
                    reason="tf.distribute.MirroredStrategy is TensorFlow-only")
def test_mirrored_matches_single_replica(reference_runs):
    root, out = reference_runs
    assert "over 2 replica(s)" in out
    assert_same_losses(os.path.join(root, "mirrored"),
                       os.path.join(root, "none"))


@pytest.mark.skipif(BACKEND != "jax",
                    reason="keras.distribution.DataParallel is JAX-only here")
def test_jax_data_parallel_matches_single_replica(reference_runs):
    root, out = reference_runs
    assert "over 2 replica(s)" in out
    assert_same_losses(os.path.join(root, "data_parallel"),
                       os.path.join(root, "none"), rtol=1e-5)


def free_loopback_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="tf.distribute.MultiWorkerMirroredStrategy is TensorFlow-only")
def test_multi_worker_matches_single_replica(tmp_path, reference_runs):
    root, _ = reference_runs
    ports = free_loopback_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workers = []
    try:
        for index in range(2):
            tf_config = {"cluster": cluster,
                         "task": {"type": "worker", "index": index}}
            env = script_env(TF_CONFIG=json.dumps(tf_config))
            log = open(tmp_path / f"worker{index}.log", "w")
            workers.append((subprocess.Popen(
                script_command(tmp_path / f"worker{index}", "--strategies",
                               "multi_worker"),
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT),
                log))
        deadline = time.time() + 240
        while any(p.poll() is None for p, _ in workers):
            if time.time() > deadline:
                pytest.fail("multi-worker training did not finish in 240 s")
            time.sleep(0.2)
    finally:
        for proc, log in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    outputs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    for (proc, _), out in zip(workers, outputs):
        assert proc.returncode == 0, out[-4000:]
        assert "DONE multi_worker" in out
    # Worker 0 is the chief: it alone writes logs, checkpoints and preset.
    chief = tmp_path / "worker0" / "multi_worker"
    assert (chief / "preset" / "config.json").is_file()
    assert not (tmp_path / "worker1").exists()
    assert "over 2 replica(s)" in outputs[0]
    assert_same_losses(chief, os.path.join(root, "none"))


@pytest.mark.skipif(BACKEND != "tensorflow",
                    reason="tf.distribute strategies are TensorFlow-only")
def test_accumulation_under_tf_distribute_is_refused(tmp_path):
    import tensorflow as tf

    from keras_albert.pretraining.pretraining_config import (
        PretrainingConfig,
    )
    from keras_albert.pretraining.trainer import pretrain

    config = PretrainingConfig(gradient_accumulation_steps=2,
                               output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="tf.distribute"):
        pretrain(config, None, strategy=tf.distribute.MirroredStrategy(
            ["/cpu:0"]))
