"""The README's main job, end to end at toy scale."""

import json
import os

import keras
import pytest

from keras_albert.quickstart import QUICKSTART_PACKAGES
from keras_albert.quickstart import run_quickstart


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="one end-to-end run is enough; it uses the default backend",
)
def test_quickstart_runs_end_to_end(tmp_path):
    out = tmp_path / "qs"
    results = run_quickstart(
        output_dir=str(out), pretrain_steps=20, finetune_epochs=1,
        vocabulary_size=400, labelled_examples=64, verbose=0,
        packages=QUICKSTART_PACKAGES,
    )
    assert set(results) >= {
        "mlm_accuracy", "sop_accuracy", "accuracy_from_pretrained",
        "accuracy_from_random", "majority_baseline",
    }
    for key in ("accuracy_from_pretrained", "accuracy_from_random"):
        assert 0.0 <= results[key] <= 1.0
    assert json.loads((out / "results.json").read_text()) == results
    assert (out / "training_curves.png").stat().st_size > 1000
    assert os.path.isfile(out / "classifier" / "task.weights.h5")
    import keras_albert

    restored = keras_albert.AlbertClassifier.from_preset(
        str(out / "classifier"))
    assert restored.predict(["Return a logger."], verbose=0).shape == (1, 4)
