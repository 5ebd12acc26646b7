"""`PearsonCorrelation`: exact over batches, weighted, and independent of
the order of the batches even when the predictions barely vary."""

import numpy as np

from keras_albert.metrics import PearsonCorrelation


def _weighted_r(x, y, w):
    x, y, w = (np.asarray(v, np.float64) for v in (x, y, w))
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.sum(w * (x - mx) * (y - my))
    return cov / np.sqrt(np.sum(w * (x - mx) ** 2) *
                         np.sum(w * (y - my) ** 2))


def _result(batches):
    metric = PearsonCorrelation()
    for x, y, w in batches:
        metric.update_state(x, y, sample_weight=w)
    return float(metric.result())


def test_matches_numpy_over_weighted_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = 0.7 * x + rng.normal(size=60)
    w = rng.uniform(0, 2, size=60)
    w[10:20] = 0.0  # a batch that counts for nothing
    batches = [(x[i:i + 10], y[i:i + 10], w[i:i + 10])
               for i in range(0, 60, 10)]
    np.testing.assert_allclose(_result(batches), _weighted_r(x, y, w),
                               rtol=1e-5)


def test_near_constant_predictions_do_not_depend_on_batch_order():
    rng = np.random.default_rng(1)
    x = rng.normal(size=96).astype("float32")
    # An untrained regressor: predictions around 3 that vary by 1e-4.
    y = (3.0 + 1e-4 * (0.5 * x + rng.normal(size=96))).astype("float32")
    w = np.ones(96, "float32")
    want = _weighted_r(x, y, w)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(96)
        batches = [(x[order[i:i + 16]], y[order[i:i + 16]], w[:16])
                   for i in range(0, 96, 16)]
        np.testing.assert_allclose(_result(batches), want, rtol=1e-3)


def test_no_variance_is_zero_and_reset_starts_over():
    metric = PearsonCorrelation()
    metric.update_state([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert float(metric.result()) == 0.0
    metric.reset_state()
    metric.update_state([1.0, 2.0, 3.0], [1.0, 2.0, 3.5])
    np.testing.assert_allclose(float(metric.result()),
                               _weighted_r([1, 2, 3], [1, 2, 3.5], [1] * 3),
                               rtol=1e-6)
