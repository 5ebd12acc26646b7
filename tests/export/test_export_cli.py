"""`keras-albert export`: TF Serving's models.config, the serving commands
it prints, `--check` in a fresh process, and quiet TFLite conversion and
loading."""

import logging
import os
import sys
import warnings

import keras
import pytest

from keras_albert.export import serving_config
from tests.conftest import TINY_CONFIG

tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="exports are traced from the TensorFlow backend in these tests",
)

EXISTING = """# my comment
model_config_list {
  config {
    name: "first"
    base_path: "/models/first"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 2 } }
  }
  config {
    name: 'second'  # quotes and braces { in comments are fine
    base_path: "/models/second"
    model_platform: "tensorflow"
  }
}
"""


def test_models_config_is_created(tmp_path):
    path, names = serving_config.add_model(tmp_path, "albert_classifier")
    assert names == ["albert_classifier"]
    text = open(path).read()
    assert 'name: "albert_classifier"' in text
    assert 'base_path: "/models/albert_classifier"' in text
    assert serving_config.read_model_entries(text)[1][0][0] == (
        "albert_classifier")
    assert os.listdir(tmp_path) == ["models.config"]  # no temporary left


def test_models_config_keeps_the_models_listed(tmp_path):
    (tmp_path / "models.config").write_text(EXISTING)
    _, names = serving_config.add_model(tmp_path, "new")
    text = (tmp_path / "models.config").read_text()
    assert text.startswith("# my comment\n")
    assert names == ["first", "second", "new"]
    # Entries already there are kept as written.
    assert "model_version_policy { specific { versions: 2 } }" in text
    assert "name: 'second'" in text
    # Exporting a listed model again replaces its entry where it stands.
    _, names = serving_config.add_model(tmp_path, "first")
    text = (tmp_path / "models.config").read_text()
    assert names[0] == "first" and names[-1] == "new" and len(names) == 3
    assert "versions: 2" not in text


def test_a_file_that_is_no_model_config_is_left_alone(tmp_path):
    (tmp_path / "models.config").write_text("not a config\n")
    with pytest.raises(ValueError, match="not a TF Serving model config"):
        serving_config.add_model(tmp_path, "x")
    assert (tmp_path / "models.config").read_text() == "not a config\n"


def test_serving_commands(tmp_path):
    docker, curl = serving_config.serving_commands(tmp_path, "m", True)
    assert docker == (
        f'docker run --rm -p 8501:8501 -v "{tmp_path}:/models" '
        "tensorflow/serving --model_config_file=/models/models.config")
    assert '"instances": [{"text": "a fine film"}]' in curl
    assert curl.endswith("http://localhost:8501/v1/models/m:predict")
    _, curl = serving_config.serving_commands(tmp_path, "m", False,
                                              num_choices=2)
    assert '"token_ids": [[[2, 1, 3], [2, 1, 3]]]' in curl


@pytest.fixture(scope="module")
def classifier_preset(spm_path, tmp_path_factory):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    model = AlbertClassifier(
        AlbertBackbone(**TINY_CONFIG), num_classes=2,
        preprocessor=AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                        sequence_length=16),
        label_names=["neg", "pos"])
    path = str(tmp_path_factory.mktemp("preset") / "classifier")
    model.save_to_preset(path)
    return path


@tf_only
def test_export_lists_the_model_prints_how_to_serve_and_checks(
        classifier_preset, tmp_path, capsys):
    from keras_albert.cli import main

    base = tmp_path / "savedmodels"
    base.mkdir()
    (base / "models.config").write_text(EXISTING)
    assert main(["export", classifier_preset, str(base), "--model-name",
                 "albert_classifier", "--version", "1", "--check"]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == str(base / "albert_classifier" / "1")
    assert f"{base / 'models.config'} lists first, second, " \
           "albert_classifier." in lines
    docker, curl = serving_config.serving_commands(
        str(base), "albert_classifier", True)
    assert docker in lines and curl in lines
    # --check ran every signature in a fresh process.
    for signature in ("serve_text_pair", "serve_token_ids",
                      "serving_default"):
        assert (f"{signature}: labels (1,), logits (1, 2), "
                "probabilities (1, 2)") in lines
    text = (base / "models.config").read_text()
    assert text.count("config {") == 3


@tf_only
def test_check_reports_an_export_that_does_not_run(classifier_preset,
                                                   tmp_path):
    from keras_albert.export import export_check

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a graph")
    with pytest.raises(RuntimeError, match="fresh Python process"):
        export_check.check_export(str(broken))


@tf_only
def test_tflite_export_and_load_are_quiet(classifier_preset, tmp_path,
                                          capfd, monkeypatch, caplog):
    from keras_albert.cli import main
    from keras_albert.export import tflite_model

    path = str(tmp_path / "clf.tflite")
    assert main(["export", classifier_preset, path, "--format", "tflite",
                 "--check"]) == 0
    out, err = capfd.readouterr()
    assert "serving_default: labels (1,)" in out
    for noise in ("Ignored output_format", "Ignored drop_control_dependency",
                  "XNNPACK delegate"):
        assert noise not in err, err

    # Without LiteRT: TensorFlow's interpreter, one notice, no warnings.
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setattr(tflite_model, "_FALLBACK_SAID", False)
    import tensorflow as tf

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(
            logging.WARNING, logger="keras_albert"):
        warnings.simplefilter("always")
        runners = [tflite_model.TFLiteModel(path) for _ in range(3)]
    assert all(isinstance(r.interpreter, tf.lite.Interpreter)
               for r in runners)
    assert not [w for w in caught if "deprecated" in str(w.message)]
    notices = [r for r in caplog.records if "ai-edge-litert" in r.message]
    assert len(notices) == 1
    assert "keras-albert[tflite]" in notices[0].message
    labels = runners[0].predict_text(["a fine film"])["labels"]
    assert labels.shape == (1,)
