"""Pearson correlation as a streaming Keras metric."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_albert")
class PearsonCorrelation(keras.metrics.Metric):
    """Pearson's r between targets and predictions, accumulated over
    batches (exact, from running centred moments), for regression
    fine-tuning.

    Args:
        name: metric name.
        dtype: accumulator dtype; float64 is not available on every
            backend's accelerators, so float32 by default.

    Example:
    ```python
    regressor.compile(optimizer="adam", loss="mse",
                      metrics=[PearsonCorrelation()])
    ```
    """

    def __init__(self, name="pearson", dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        # Weighted count, means and centred (co)moments, merged batch by
        # batch (Chan et al.): raw sums of squares cancel catastrophically
        # in float32 when predictions are nearly constant, which made the
        # result depend on the order of the batches.
        self._state = {
            key: self.add_variable(shape=(), initializer="zeros", name=key)
            for key in ("n", "mean_x", "mean_y", "m2_x", "m2_y", "c_xy")
        }

    def update_state(self, y_true, y_pred, sample_weight=None):
        x = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        y = ops.reshape(ops.cast(y_pred, self.dtype), (-1,))
        w = ops.ones_like(x) if sample_weight is None else ops.reshape(
            ops.cast(sample_weight, self.dtype), (-1,))
        s = self._state
        n_b = ops.sum(w)
        safe_n_b = ops.maximum(n_b, 1e-30)
        mean_x_b = ops.sum(w * x) / safe_n_b
        mean_y_b = ops.sum(w * y) / safe_n_b
        dx_b, dy_b = x - mean_x_b, y - mean_y_b
        n = s["n"].value
        total = n + n_b
        share = ops.where(total > 0, n_b / ops.maximum(total, 1e-30), 0.0)
        dx, dy = mean_x_b - s["mean_x"].value, mean_y_b - s["mean_y"].value
        # n * n_b / total, the weight of the means' difference.
        cross = n * share
        s["m2_x"].assign_add(ops.sum(w * dx_b * dx_b) + dx * dx * cross)
        s["m2_y"].assign_add(ops.sum(w * dy_b * dy_b) + dy * dy * cross)
        s["c_xy"].assign_add(ops.sum(w * dx_b * dy_b) + dx * dy * cross)
        s["mean_x"].assign_add(dx * share)
        s["mean_y"].assign_add(dy * share)
        s["n"].assign(total)

    def result(self):
        s = self._state
        denominator = ops.sqrt(ops.maximum(s["m2_x"] * s["m2_y"], 0.0))
        return ops.where(denominator > 0, s["c_xy"] / ops.maximum(
            denominator, 1e-30), 0.0)

    def reset_state(self):
        for variable in self._state.values():
            variable.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
