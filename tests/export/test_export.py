"""SavedModel and TFLite export of tiny classifiers and backbones."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG
from tests.export.fresh_process import run_in_fresh_process

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="export is traced from the TensorFlow backend in these tests "
           "(TFLite needs it; run with KERAS_BACKEND=tensorflow)",
)

POSITIVE = ["this film was wonderful", "great acting and a great plot",
            "good movies make people happy", "wonderful and great"]
NEGATIVE = ["that film was terrible", "boring plot and bad acting",
            "bad movies make people sad", "terrible and boring"]
TEXTS = POSITIVE + NEGATIVE
LABELS = np.array([1] * 4 + [0] * 4)
# Bad or edge-case inputs: empty, far longer than sequence_length, and
# bytes that are not UTF-8.
ODD = [b"", ("the quick brown fox " * 200).encode(), b"\xff\xfe film \xc3"]


@pytest.fixture(scope="module")
def classifier(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    keras.utils.set_random_seed(7)
    # Non-default preprocessing, which the exports must keep.
    preprocessor = AlbertPreprocessor(
        AlbertTokenizer(proto=spm_path), sequence_length=24,
        truncate="waterfall", pad_to_multiple_of=4)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=2,
                             preprocessor=preprocessor, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(np.array(TEXTS), LABELS, batch_size=8, epochs=12, verbose=0,
              shuffle=False)
    return model


def keras_probs(model, x):
    logits = keras.ops.convert_to_numpy(
        model(model.preprocessor.pack(x)))
    return logits, keras.ops.convert_to_numpy(keras.ops.softmax(logits))


@pytest.fixture(scope="module")
def tf_info_logs():
    """Messages TensorFlow's Python logger emits at INFO and above while the
    module's exports run (notebooks show INFO records)."""
    import logging

    class Records(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    tf_logger = logging.getLogger("tensorflow")
    records, level = Records(), tf_logger.level
    tf_logger.addHandler(records)
    tf_logger.setLevel(logging.INFO)
    yield records.messages
    tf_logger.removeHandler(records)
    tf_logger.setLevel(level)


@pytest.fixture(scope="module")
def saved_dir(classifier, tmp_path_factory, tf_info_logs):
    from keras_albert.export import export_saved_model

    path = tmp_path_factory.mktemp("sm") / "albert_classifier" / "1"
    export_saved_model(classifier, path)
    return str(path)


def test_saved_model_in_fresh_process_matches_keras(classifier, saved_dir,
                                                    tmp_path):
    a, b = TEXTS[:4], TEXTS[4:]
    out = run_in_fresh_process(saved_dir, classifier.preprocessor, TEXTS,
                               (a, b), ODD, tmp_path)

    logits, probs = keras_probs(classifier, TEXTS)
    for sig in ("serving_default", "serve_token_ids"):
        np.testing.assert_allclose(out[f"{sig}/logits"], logits, atol=1e-5)
        np.testing.assert_allclose(out[f"{sig}/probabilities"], probs,
                                   atol=1e-5)
        np.testing.assert_array_equal(out[f"{sig}/labels"], LABELS)
    pair_logits, _ = keras_probs(classifier, (a, b))
    np.testing.assert_allclose(out["serve_text_pair/logits"], pair_logits,
                               atol=1e-5)
    # Odd inputs: no crash; the long text is truncated exactly like the
    # Keras preprocessor (sequence_length=24) does it.
    odd_logits, _ = keras_probs(classifier, ["", ODD[1].decode()])
    np.testing.assert_allclose(out["odd/logits"][:2], odd_logits, atol=1e-5)
    assert np.isfinite(out["odd/logits"]).all()


def test_saved_model_cli_and_settings(saved_dir):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", saved_dir, "--all"], check=True,
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    ).stdout
    for name in ("serving_default", "serve_text_pair", "serve_token_ids",
                 "probabilities", "labels", "text_a", "token_ids"):
        assert name in shown
    with open(os.path.join(saved_dir, "keras_albert_export.json")) as f:
        settings = json.load(f)
    assert settings["preprocessor"]["sequence_length"] == 24
    assert settings["preprocessor"]["truncate"] == "waterfall"
    assert os.path.isfile(
        os.path.join(saved_dir, "assets.extra", "spiece.model"))



IDS_ONLY = r"""
import sys, json, numpy as np
import tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
ids = {k: tf.constant(v, tf.int32) for k, v in json.load(open(sys.argv[2])).items()}
out = m.signatures["serving_default"](**ids)
assert "tensorflow_text" not in sys.modules
assert "keras_albert" not in sys.modules
np.save(sys.argv[3], out["logits"].numpy())
"""


def test_token_ids_only_export_needs_no_tensorflow_text(classifier,
                                                       tmp_path):
    # What a stock TF Serving build (no tensorflow-text ops) can load.
    from keras_albert.cli import main

    preset = tmp_path / "preset"
    classifier.save_to_preset(str(preset))
    path = str(tmp_path / "sm")
    # The command's exit status is 0 (it returns the path to Python callers).
    assert main(["export", str(preset), path, "--token-ids-only"]) == 0
    assert os.path.isfile(os.path.join(path, "assets.extra", "spiece.model"))
    packed = classifier.preprocessor.pack(TEXTS)
    (tmp_path / "ids.json").write_text(json.dumps(
        {k: v.numpy().tolist() for k, v in packed.items()}))
    (tmp_path / "run.py").write_text(IDS_ONLY)
    subprocess.run([sys.executable, str(tmp_path / "run.py"), path,
                    str(tmp_path / "ids.json"), str(tmp_path / "out.npy")],
                   check=True, timeout=120, cwd=str(tmp_path),
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    logits, _ = keras_probs(classifier, TEXTS)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), logits,
                               atol=1e-5)


def test_saved_model_stores_each_weight_once(classifier, saved_dir):
    # Keras' ExportArchive alone writes every weight twice (Keras variables
    # and the tf.Variables they wrap); the export must not.
    data = os.path.join(saved_dir, "variables",
                        "variables.data-00000-of-00001")
    weight_bytes = 4 * classifier.count_params()
    assert weight_bytes <= os.path.getsize(data) < 1.2 * weight_bytes


def test_backbone_export_gives_embeddings(classifier, tmp_path):
    import tensorflow as tf

    from keras_albert.export import export_saved_model

    backbone = classifier.backbone
    export_saved_model(backbone, tmp_path / "bb",
                       preprocessor=classifier.preprocessor)
    loaded = tf.saved_model.load(str(tmp_path / "bb"))
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    expected = backbone(classifier.preprocessor.pack(TEXTS))
    for key in ("pooled_output", "sequence_output"):
        np.testing.assert_allclose(out[key].numpy(),
                                   keras.ops.convert_to_numpy(expected[key]),
                                   atol=1e-5)


def test_bad_token_ids_give_a_clear_error(saved_dir):
    import tensorflow as tf

    loaded = tf.saved_model.load(saved_dir)
    ids = tf.constant([[2, 100000, 3]], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["serve_token_ids"](
            token_ids=ids, segment_ids=tf.zeros_like(ids),
            padding_mask=tf.ones_like(ids))


# float16 weights: ~1e-3 relative on these logits; dynamic int8: activations
# are quantized per call, so allow a few hundredths on probabilities.
TOLERANCES = {None: 1e-4, "float16": 5e-3, "dynamic_int8": 5e-2}


@pytest.fixture(scope="module")
def tflite_files(classifier, tmp_path_factory, tf_info_logs):
    from keras_albert.export import export_tflite

    root = tmp_path_factory.mktemp("tflite")
    cache = {}

    class Files(dict):
        # Exported on first use, inside the test, so an export error is the
        # test's outcome (and can be an expected failure), not a fixture error.
        def __getitem__(self, q):
            if q not in cache:
                cache[q] = export_tflite(
                    classifier, root / f"clf_{q or 'float32'}.tflite",
                    quantization=q)
            return cache[q]

        def items(self):
            return [(q, self[q]) for q in TOLERANCES]

    return Files()


@pytest.mark.parametrize("quantization", list(TOLERANCES))
def test_tflite_matches_keras(classifier, tflite_files, quantization):
    from keras_albert.export import TFLiteModel

    path = tflite_files[quantization]
    runner = TFLiteModel(path)
    # Plain TFLite builtins only: phones' LiteRT has no Flex delegate.
    assert not runner.settings["select_tf_ops"]
    _, probs = keras_probs(classifier, TEXTS)
    out = runner.predict_text(TEXTS)
    np.testing.assert_allclose(out["probabilities"], probs,
                               atol=TOLERANCES[quantization])
    np.testing.assert_array_equal(out["labels"], LABELS)
    # Dynamic length: a batch with another padded length runs too, and
    # the shipped tokenizer keeps the exported settings.
    assert runner.preprocessor.sequence_length == 24
    assert runner.preprocessor.truncate == "waterfall"
    short, _ = keras_probs(classifier, ["bad"])
    np.testing.assert_allclose(runner.predict_text(["bad"])["logits"], short,
                               atol=TOLERANCES[quantization] * 10)
    # The export owns its tokenizer, named after it.
    assert os.path.isfile(path[: -len(".tflite")] + ".spiece.model")
    assert runner.settings["sentencepiece_model"] == os.path.basename(
        path[: -len(".tflite")] + ".spiece.model")


def test_tflite_exports_sharing_a_folder_keep_their_own_files(
        classifier, tmp_path):
    # A second export with another tokenizer beside the first must not
    # change what the first computes.
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer
    from keras_albert import train_sentencepiece
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    first = export_tflite(classifier, tmp_path / "first.tflite")
    want = TFLiteModel(first).predict_text(TEXTS)["logits"]
    before = {name: (tmp_path / name).read_bytes()
              for name in os.listdir(tmp_path)}
    other_spm = tmp_path.parent / "other.model"
    train_sentencepiece(["zebras zigzag across the zoo at dawn",
                         "quantum physics puzzles every student"] * 40,
                        other_spm, vocabulary_size=100)
    other = AlbertClassifier(
        AlbertBackbone(**dict(TINY_CONFIG, vocabulary_size=100)),
        num_classes=2, preprocessor=AlbertPreprocessor(
            AlbertTokenizer(proto=str(other_spm)), sequence_length=16))
    second = export_tflite(other, tmp_path / "second.tflite")
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data, name
    assert sorted(os.listdir(tmp_path)) == sorted(
        list(before) + ["second.json", "second.spiece.model",
                        "second.tflite"])
    np.testing.assert_array_equal(
        TFLiteModel(first).predict_text(TEXTS)["logits"], want)
    size = other.preprocessor.tokenizer.vocabulary_size()
    assert size != classifier.preprocessor.tokenizer.vocabulary_size()
    assert TFLiteModel(second).preprocessor.tokenizer.vocabulary_size() == (
        size)


def test_tflite_exports_of_the_earlier_layout_still_load(classifier,
                                                         tmp_path):
    # Earlier exports wrote `spiece.model` beside the file and named it in
    # their settings.
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    path = export_tflite(classifier, tmp_path / "clf.tflite")
    want = TFLiteModel(path).predict_text(TEXTS)["logits"]
    os.rename(tmp_path / "clf.spiece.model", tmp_path / "spiece.model")
    settings = json.loads((tmp_path / "clf.json").read_text())
    settings["sentencepiece_model"] = "spiece.model"
    (tmp_path / "clf.json").write_text(json.dumps(settings))
    np.testing.assert_array_equal(
        TFLiteModel(path).predict_text(TEXTS)["logits"], want)


def test_exports_do_not_log_their_temporary_folders(saved_dir, tflite_files,
                                                    tf_info_logs):
    import logging

    tflite_files[None]  # exported here unless an earlier test did
    # TensorFlow's SavedModel writer logs "Assets written to: <staging or
    # converter scratch folder>/assets" on every save; the exports drop
    # that line while they write, and only then.
    logging.getLogger("tensorflow").info("Assets written to: %s", "elsewhere")
    assert [m for m in tf_info_logs if "Assets written" in m] == [
        "Assets written to: elsewhere"], tf_info_logs


def test_tflite_sizes_shrink_with_quantization(tflite_files):
    sizes = {q: os.path.getsize(p) for q, p in tflite_files.items()}
    # Tiny models are mostly graph, not weights, so only int8 (4x on the
    # weights) is sure to shrink the file here.
    assert sizes["dynamic_int8"] < sizes[None]
    assert sizes["float16"] < sizes[None]


def test_tflite_backbone_embeddings_match_keras(classifier, tmp_path):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    backbone = classifier.backbone
    path = export_tflite(backbone, tmp_path / "backbone.tflite",
                         preprocessor=classifier.preprocessor)
    packed = classifier.preprocessor.pack(TEXTS)
    got = TFLiteModel(path)({k: v.numpy() for k, v in packed.items()})
    want = backbone(packed)
    for key in ("pooled_output", "sequence_output"):
        np.testing.assert_allclose(
            got[key], keras.ops.convert_to_numpy(want[key]), atol=1e-4)


def test_tflite_export_refuses_a_wrong_conversion(classifier, tmp_path,
                                                  monkeypatch):
    # A converter that gets the numbers wrong (as TF 2.21's did without
    # freezing: NaN) must give an error and leave no file behind.
    import tensorflow as tf

    from keras_albert.export import export_tflite
    from keras_albert.export import frozen_graph

    freeze = frozen_graph.freeze_variables

    def off_by_one(concrete):
        good = freeze(concrete)

        @tf.function(input_signature=good.structured_input_signature[0])
        def serve(inputs):
            return {k: v + 1.0 if v.dtype.is_floating else v
                    for k, v in good(inputs).items()}

        return serve.get_concrete_function()

    monkeypatch.setattr(frozen_graph, "freeze_variables", off_by_one)
    path = tmp_path / "broken.tflite"
    with pytest.raises(RuntimeError, match="wrong `"):
        export_tflite(classifier, path)
    assert not path.exists()
    assert not (tmp_path / "broken.json").exists()
    assert os.listdir(tmp_path) == []  # nor a temporary file


def test_bad_quantization_is_rejected(classifier, tmp_path):
    from keras_albert.export import export_tflite

    with pytest.raises(ValueError, match="quantization"):
        export_tflite(classifier, tmp_path / "x.tflite", quantization="int4")


def test_cli_exports_tf_serving_layout(classifier, tmp_path):
    import argparse

    from keras_albert.export import export_cli

    preset = tmp_path / "preset"
    classifier.save_to_preset(str(preset))
    parser = argparse.ArgumentParser()
    export_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["export", str(preset), str(tmp_path / "sm"),
                              "--model-name", "albert_classifier",
                              "--version", "3"])
    path = args.func(args)
    assert path == str(tmp_path / "sm" / "albert_classifier" / "3")
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
