"""`predict_proba` and `predict_labels`, shared by the tasks that score
classes of a whole text (`AlbertClassifier`, `AlbertEarlyExitClassifier`)."""

import keras
import numpy as np


class ClassPredictions:
    """Mixin for a task with `num_classes` and `_label_names`: class
    probabilities and labels from `predict`.

    A task using it implements `_class_probabilities(outputs)`, which turns
    what its `predict` returns into `(batch, num_classes)` probabilities.

    Example:
    ```python
    class MyClassifier(ClassPredictions, AlbertTask):
        def _class_probabilities(self, outputs):
            return keras.ops.softmax(outputs, axis=-1)
    ```
    """

    def _class_probabilities(self, outputs):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `_class_probabilities`.")

    def predict_proba(self, x, batch_size=32, **kwargs):
        """Class probabilities `(batch, num_classes)` as a NumPy array.

        Args:
            x: what `predict` takes: strings, `(text_a, text_b)` pairs,
                token dicts or a dataset.
            batch_size: int. Examples per batch.
            **kwargs: passed to `predict` (e.g. `verbose`; default 0).
        """
        if self.num_classes == 1:
            raise ValueError(
                "A regressor (num_classes=1) has no class probabilities; "
                "`predict` returns its scores.")
        kwargs.setdefault("verbose", 0)
        outputs = self.predict(x, batch_size=batch_size, **kwargs)
        return np.asarray(keras.ops.convert_to_numpy(
            self._class_probabilities(outputs)))

    def predict_labels(self, x, batch_size=32, **kwargs):
        """The most probable class per example: a NumPy array of names
        when the model has `label_names`, else of class ids.

        Args:
            x: what `predict` takes.
            batch_size: int. Examples per batch.
            **kwargs: passed to `predict` (e.g. `verbose`; default 0).
        """
        ids = np.argmax(self.predict_proba(x, batch_size=batch_size,
                                           **kwargs), axis=-1)
        if self._label_names is None:
            return ids
        return np.asarray(self._label_names)[ids]
