"""`WarmupPolynomialDecay`: linear warm-up, then polynomial decay."""

import keras
import numpy as np
import pytest

from keras_albert.optimizers.schedules import WarmupPolynomialDecay


def values(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(s)))
                     for s in steps])


def test_warmup_then_linear_decay():
    schedule = WarmupPolynomialDecay(1e-3, warmup_steps=10, total_steps=110)
    got = values(schedule, [0, 1, 5, 10, 60, 109, 110, 500])
    want = [0.0, 1e-4, 5e-4, 1e-3, 5e-4, 1e-5, 0.0, 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_polynomial_power_and_end_rate():
    schedule = WarmupPolynomialDecay(1.0, warmup_steps=0, total_steps=100,
                                     end_learning_rate=0.1, power=2.0)
    got = values(schedule, [0, 50, 100, 200])
    np.testing.assert_allclose(got, [1.0, 0.9 * 0.25 + 0.1, 0.1, 0.1],
                               rtol=1e-6)


def test_accumulation_counts_optimizer_updates():
    # Keras calls the schedule with its micro-batch counter when
    # accumulating: micro-batches 0..3 are update 0, 4..7 update 1, ...
    plain = WarmupPolynomialDecay(1e-3, warmup_steps=4, total_steps=20)
    accumulated = WarmupPolynomialDecay(1e-3, warmup_steps=4, total_steps=20,
                                        accumulation_steps=4)
    np.testing.assert_allclose(values(accumulated, range(0, 80)),
                               np.repeat(values(plain, range(20)), 4),
                               rtol=1e-6)


def test_config_round_trip_and_validation():
    schedule = WarmupPolynomialDecay(2e-3, 5, 50, end_learning_rate=1e-5,
                                     power=0.5, accumulation_steps=2)
    config = keras.saving.serialize_keras_object(schedule)
    clone = keras.saving.deserialize_keras_object(config)
    np.testing.assert_allclose(values(clone, range(0, 120, 7)),
                               values(schedule, range(0, 120, 7)))
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupPolynomialDecay(1e-3, warmup_steps=20, total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        WarmupPolynomialDecay(1e-3, warmup_steps=0, total_steps=0)
