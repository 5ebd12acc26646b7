"""SavedModel and TFLite exports of `AlbertEarlyExitClassifier`: the
early-exit loop runs inside the exported graph, and a process that never
imports keras_albert gets the Keras model's logits and layer counts."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.export.fresh_process import run_in_fresh_process
from tests.tasks.test_albert_early_exit_classifier import disagreeing_model

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="exports are traced from the TensorFlow backend in these tests "
           "(one backend keeps CI short)",
)

TEXTS = ["this film was wonderful", "that film was terrible",
         "the quick brown fox", "numbers like 1, 2 and 3"]
PAIR = (["the fox", "a dog"], ["jumps over the dog", "sleeps"])
ODD = [b"", ("the quick brown fox " * 50).encode(), b"\xff\xfe film"]

TFLITE_RUN = r"""
import sys, json, numpy as np
import tensorflow as tf
interpreter = tf.lite.Interpreter(model_path=sys.argv[1])
runner = interpreter.get_signature_runner("serving_default")
ids = {k: np.asarray(v, np.int32) for k, v in json.load(open(sys.argv[2])).items()}
out = runner(**ids)
assert "keras_albert" not in sys.modules
np.savez(sys.argv[3], **out)
"""


@pytest.fixture(scope="module")
def model(spm_path):
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    keras.utils.set_random_seed(5)
    model = disagreeing_model(patience=1)
    model.preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                            sequence_length=16)
    return model


def test_saved_model_runs_the_loop_in_a_fresh_process(model, tmp_path):
    from keras_albert.export import export_saved_model

    export_saved_model(model, tmp_path / "early_exit" / "1")
    out = run_in_fresh_process(tmp_path / "early_exit" / "1",
                               model.preprocessor, TEXTS, PAIR, ODD,
                               tmp_path)
    want = model.predict(TEXTS, verbose=0)
    # The loop stopped before full depth inside the exported graph.
    assert want["layers_used"].min() < 4, want["layers_used"]
    for signature in ("serving_default", "serve_token_ids"):
        np.testing.assert_array_equal(
            out[f"{signature}/layers_used"], want["layers_used"])
        np.testing.assert_allclose(out[f"{signature}/logits"],
                                   want["logits"], atol=1e-5)
        np.testing.assert_array_equal(out[f"{signature}/labels"],
                                      want["logits"].argmax(-1))
    pair = model.predict(PAIR, verbose=0)
    np.testing.assert_array_equal(out["serve_text_pair/layers_used"],
                                  pair["layers_used"])
    np.testing.assert_allclose(out["serve_text_pair/logits"],
                               pair["logits"], atol=1e-5)
    assert out["odd/layers_used"].shape == (3,)
    with open(tmp_path / "early_exit" / "1" / "keras_albert_export.json") as f:
        settings = json.load(f)
    assert settings["task"] == "early_exit_classifier"
    assert (settings["patience"], settings["num_layers"]) == (1, 4)


def test_tflite_runs_the_loop_with_builtin_ops(model, tmp_path):
    from keras_albert.export import export_tflite

    path = export_tflite(model, tmp_path / "early_exit.tflite")
    with open(tmp_path / "early_exit.json") as f:
        # A plain LiteRT runtime runs it: no TensorFlow kernels inside.
        assert json.load(f)["select_tf_ops"] is False
    ids = {k: keras.ops.convert_to_numpy(v).tolist()
           for k, v in model.preprocessor(TEXTS).items()}
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    script = tmp_path / "run_tflite.py"
    script.write_text(TFLITE_RUN)
    subprocess.run(
        [sys.executable, str(script), path, str(tmp_path / "ids.json"),
         str(tmp_path / "out.npz")],
        check=True, timeout=120, cwd=str(tmp_path),
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    got = dict(np.load(tmp_path / "out.npz"))
    want = model.predict(TEXTS, verbose=0)
    np.testing.assert_array_equal(got["layers_used"], want["layers_used"])
    np.testing.assert_allclose(got["logits"], want["logits"], atol=1e-4)
