"""In-process training tests on the current backend: gradient
accumulation, mixed precision and checkpoint save/restore."""

import os

import keras
import numpy as np
import pytest

from keras_albert.pretraining.checkpointing import StepCheckpoint
from keras_albert.pretraining.pretraining_config import PretrainingConfig
from keras_albert.pretraining.pretraining_optimizer import make_optimizer
from keras_albert.pretraining.trainer import build_pretrainer
from keras_albert.pretraining.trainer import pretrain
from tests.pretraining.conftest import read_log
from tests.pretraining.helpers import TINY_BACKBONE
from tests.pretraining.helpers import synthetic_arrays
from tests.pretraining.helpers import synthetic_dataset


def tiny_config(**kwargs):
    values = dict(backbone_config=TINY_BACKBONE, sequence_length=16,
                  max_predictions_per_seq=4, batch_size=8, steps=4,
                  warmup_steps=0, learning_rate=1e-2, log_every=1,
                  checkpoint_every=2)
    values.update(kwargs)
    return PretrainingConfig(**values)


def test_gradient_accumulation_matches_large_batch():
    x, y, sample_weight = synthetic_arrays(8, seed=5)
    initial = None
    results = {}
    for accumulation, batch_size in ((1, 8), (2, 4)):
        config = tiny_config(batch_size=batch_size,
                             gradient_accumulation_steps=accumulation)
        model = build_pretrainer(config)
        if initial is None:
            initial = model.get_weights()
        model.set_weights(initial)
        model.compile(optimizer=make_optimizer(config))
        model.fit(x, y, sample_weight=sample_weight, batch_size=batch_size,
                  epochs=1, shuffle=False, verbose=0)
        results[accumulation] = model.get_weights()
        # One optimizer update either way; the schedule counts updates.
        assert int(keras.ops.convert_to_numpy(
            model.optimizer.iterations)) == 1
    moved = max(np.abs(a - b).max() for a, b in zip(results[1], initial))
    assert moved > 1e-3  # the update is not trivially small
    for big, accumulated in zip(results[1], results[2]):
        np.testing.assert_allclose(accumulated, big, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains(policy, tmp_path):
    if policy == "mixed_float16" and keras.backend.backend() == "jax":
        import jax

        if jax.devices()[0].platform == "cpu":
            pytest.skip("XLA:CPU has no float16 dot with float32 "
                        "accumulation ('F16_F16_F32' is not supported by "
                        "dot_general on CPU); mixed_float16 is for GPUs.")
    config = tiny_config(mixed_precision=policy, steps=3,
                         output_dir=str(tmp_path))
    result = pretrain(config, synthetic_dataset(3, 8), print_fn=None)
    model = result.pretrainer
    assert model.backbone.compute_dtype == policy.split("_")[1]
    assert all(v.dtype == "float32" for v in model.trainable_weights)
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    log = read_log(tmp_path)
    assert [r["step"] for r in log] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and r["loss"] > 0 for r in log)
    assert os.path.isfile(tmp_path / "preset" / "config.json")
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_checkpoint_round_trip(tmp_path):
    config = tiny_config()
    model = build_pretrainer(config)
    model.compile(optimizer=make_optimizer(config))
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    for v in model.optimizer.variables:
        v.assign(rng.integers(1, 9, v.shape) if "int" in v.dtype
                 else rng.normal(size=v.shape).astype(v.dtype))
    checkpoint = StepCheckpoint(tmp_path, save_every=1, keep=2,
                                metadata={"note": "x"})
    checkpoint.set_model(model)
    for batches in (3, 6, 9):
        checkpoint.save(batches)
    # A torn write (process killed before the rename) is never picked up.
    (tmp_path / "ckpt-0000000012.npz.tmp-1").write_bytes(b"garbage")
    files = StepCheckpoint.list(tmp_path)
    assert [os.path.basename(f) for f in files] == [
        "ckpt-0000000006.npz", "ckpt-0000000009.npz"]
    assert StepCheckpoint.latest(tmp_path) == files[-1]

    clone = build_pretrainer(config)
    clone.compile(optimizer=make_optimizer(config))
    meta = StepCheckpoint.restore(clone, files[-1])
    assert meta["batches"] == 9 and meta["note"] == "x"
    for a, b in zip(model.weights + model.optimizer.variables,
                    clone.weights + clone.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    other = build_pretrainer(tiny_config(backbone_config=dict(
        TINY_BACKBONE, hidden_dim=48)))
    other.compile(optimizer=make_optimizer(config))
    with pytest.raises(ValueError, match="shape"):
        StepCheckpoint.restore(other, files[-1])


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="tf.distribute strategies are TensorFlow-only")
def test_log_names_the_strategy_passed_in(tmp_path):
    # A notebook builds its own strategy (TPU, mirrored or default) and
    # passes it; the first line must name it, not the config's "none".
    import tensorflow as tf

    lines = []
    pretrain(tiny_config(steps=1, output_dir=str(tmp_path)),
             synthetic_dataset(1, 8), print_fn=lines.append,
             strategy=tf.distribute.get_strategy())
    assert "with strategy 'DefaultDistributionStrategy' over 1 replica(s)" \
        in lines[0]
