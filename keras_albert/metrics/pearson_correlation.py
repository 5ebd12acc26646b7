"""Pearson correlation as a streaming Keras metric."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_albert")
class PearsonCorrelation(keras.metrics.Metric):
    """Pearson's r between targets and predictions, accumulated over
    batches (exact, from running sums), for regression fine-tuning.

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
        self._sums = {
            key: self.add_variable(shape=(), initializer="zeros", name=key)
            for key in ("n", "x", "y", "xx", "yy", "xy")
        }

    def update_state(self, y_true, y_pred, sample_weight=None):
        x = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        y = ops.reshape(ops.cast(y_pred, self.dtype), (-1,))
        w = ops.ones_like(x) if sample_weight is None else ops.reshape(
            ops.cast(sample_weight, self.dtype), (-1,))
        updates = {
            "n": w, "x": w * x, "y": w * y, "xx": w * x * x,
            "yy": w * y * y, "xy": w * x * y,
        }
        for key, value in updates.items():
            self._sums[key].assign_add(ops.sum(value))

    def result(self):
        s = self._sums
        n = ops.maximum(s["n"], 1.0)
        cov = s["xy"] - s["x"] * s["y"] / n
        var_x = s["xx"] - s["x"] * s["x"] / n
        var_y = s["yy"] - s["y"] * s["y"] / n
        denominator = ops.sqrt(ops.maximum(var_x * var_y, 0.0))
        return ops.where(denominator > 0, cov / ops.maximum(
            denominator, 1e-12), 0.0)

    def reset_state(self):
        for variable in self._sums.values():
            variable.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
