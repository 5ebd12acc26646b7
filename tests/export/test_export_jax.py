"""SavedModel export from the JAX backend (jax2tf), served by plain TF."""

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG
from tests.export.fresh_process import run_in_fresh_process

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="checks the JAX -> SavedModel path; runs under KERAS_BACKEND=jax",
)

TEXTS = ["this film was wonderful", "that film was terrible",
         "great acting", "boring plot and bad acting"]
ODD = [b"", ("the quick brown fox " * 200).encode(), b"\xff\xfe film \xc3"]


def test_jax_classifier_saved_model_matches_keras(spm_path, tmp_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer
    from keras_albert.export import export_saved_model

    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=24)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=3,
                             preprocessor=preprocessor)
    export_dir = tmp_path / "albert_classifier" / "1"
    export_saved_model(model, export_dir)

    out = run_in_fresh_process(export_dir, preprocessor, TEXTS,
                               (TEXTS[:2], TEXTS[2:]), ODD, tmp_path)
    logits = keras.ops.convert_to_numpy(model(preprocessor.pack(TEXTS)))
    pair_logits = keras.ops.convert_to_numpy(
        model(preprocessor.pack((TEXTS[:2], TEXTS[2:]))))
    for sig in ("serving_default", "serve_token_ids"):
        np.testing.assert_allclose(out[f"{sig}/logits"], logits, atol=1e-5)
        np.testing.assert_array_equal(out[f"{sig}/labels"],
                                      logits.argmax(-1))
    np.testing.assert_allclose(out["serve_text_pair/logits"], pair_logits,
                               atol=1e-5)
    assert np.isfinite(out["odd/logits"]).all()
