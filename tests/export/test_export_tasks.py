"""Token classification, question answering and multiple choice exports:
SavedModel and TFLite outputs equal the Keras model's."""

import json
import os

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="TFLite conversion runs from the TensorFlow backend",
)
NOT_TORCH = pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="SavedModel export runs from the TensorFlow or JAX backend",
)


def _tokens(shape, seed=0):
    rng = np.random.default_rng(seed)
    *batch, length = shape
    ids = rng.integers(5, TINY_CONFIG["vocabulary_size"], shape)
    ids[..., 0] = 2
    # [CLS] question [SEP] context [SEP] pad: segment 1 from position 4.
    segments = np.zeros(shape, "int32")
    segments[..., 4:] = 1
    mask = np.ones(shape, "int32")
    mask[-1, ..., length - 3:] = 0  # the last row is padded
    segments[-1, ..., length - 3:] = 0
    ids = np.where(mask == 1, ids, 0)
    return {"token_ids": ids.astype("int32"), "segment_ids": segments,
            "padding_mask": mask}


def _models(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertMultipleChoice
    from keras_albert import AlbertQuestionAnswerer
    from keras_albert import AlbertTokenClassifier

    keras.utils.set_random_seed(11)
    return {
        "token_classifier": AlbertTokenClassifier(
            AlbertBackbone(**TINY_CONFIG), labels=["O", "B-PER", "I-PER"]),
        "question_answerer": AlbertQuestionAnswerer(
            AlbertBackbone(**TINY_CONFIG)),
        "multiple_choice": AlbertMultipleChoice(
            AlbertBackbone(**TINY_CONFIG), num_choices=3),
    }


@pytest.fixture(scope="module")
def models(spm_path):
    return _models(spm_path)


SHAPES = {"token_classifier": (3, 12), "question_answerer": (3, 12),
          "multiple_choice": (2, 3, 12)}


def _keras_outputs(model, x):
    from keras_albert.export.serving_model import serving_model

    return {k: keras.ops.convert_to_numpy(v)
            for k, v in serving_model(model, max_answer_length=4)(x).items()}


@NOT_TORCH
@pytest.mark.parametrize("kind", list(SHAPES))
def test_saved_model_token_signature_matches_keras(models, kind, tmp_path):
    import tensorflow as tf

    from keras_albert.export import export_saved_model

    model = models[kind]
    x = _tokens(SHAPES[kind])
    export_saved_model(model, tmp_path / kind, max_answer_length=4)
    loaded = tf.saved_model.load(str(tmp_path / kind))
    # Token ids only for these tasks: serving_default is the id signature.
    assert set(loaded.signatures) == {"serving_default", "serve_token_ids"}
    got = {k: v.numpy() for k, v in loaded.signatures["serving_default"](
        **{k: tf.constant(v) for k, v in x.items()}).items()}
    want = _keras_outputs(model, x)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-5,
                                   err_msg=key)
    with open(tmp_path / kind / "keras_albert_export.json") as f:
        settings = json.load(f)
    assert settings["task"] == kind
    if kind == "token_classifier":
        assert settings["labels"] == ["O", "B-PER", "I-PER"]
        assert want["labels"].shape == SHAPES[kind]
    if kind == "multiple_choice":
        assert settings["input_rank"] == 3
        assert want["logits"].shape == (2, 3)


def test_best_span_is_the_best_allowed_pair(models):
    model = models["question_answerer"]
    x = _tokens(SHAPES["question_answerer"])
    out = _keras_outputs(model, x)
    for row in range(3):
        context = [
            i for i in range(12)
            if x["segment_ids"][row, i] == 1 and x["padding_mask"][row, i]
        ][:-1]  # the closing [SEP] is no answer
        best = max(
            ((out["start_logits"][row, i] + out["end_logits"][row, j], i, j)
             for i in context for j in context if 0 <= j - i < 4))
        assert (out["span_start"][row], out["span_end"][row]) == best[1:]
        np.testing.assert_allclose(out["span_score"][row], best[0],
                                   rtol=1e-6)
        np.testing.assert_allclose(
            out["null_score"][row],
            out["start_logits"][row, 0] + out["end_logits"][row, 0])


@TF_ONLY
@pytest.mark.parametrize("kind", list(SHAPES))
def test_tflite_matches_keras(models, kind, tmp_path):
    from keras_albert.export import TFLiteModel
    from keras_albert.export import export_tflite

    model = models[kind]
    path = export_tflite(model, tmp_path / f"{kind}.tflite",
                         preprocessor=None)
    x = _tokens(SHAPES[kind], seed=1)
    got = TFLiteModel(path)(x)
    from keras_albert.export.serving_model import serving_model

    want = {k: keras.ops.convert_to_numpy(v)
            for k, v in serving_model(model)(x).items()}
    for key, value in want.items():
        if value.dtype.kind == "f":
            np.testing.assert_allclose(got[key], value, atol=1e-4,
                                       err_msg=key)
        else:
            np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert os.path.getsize(path) > 0


@NOT_TORCH
def test_cli_detects_the_task_and_ships_its_preprocessor(spm_path, tmp_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertQuestionAnswerer
    from keras_albert import AlbertTokenizer
    from keras_albert.cli import main
    from keras_albert.preprocessing import (
        AlbertQuestionAnsweringPreprocessor,
    )

    pre = AlbertQuestionAnsweringPreprocessor(
        AlbertTokenizer(proto=spm_path), sequence_length=48, doc_stride=16)
    model = AlbertQuestionAnswerer(AlbertBackbone(**TINY_CONFIG),
                                   preprocessor=pre)
    model.save_to_preset(str(tmp_path / "qa"))
    out = str(tmp_path / "served")
    assert main(["export", str(tmp_path / "qa"), out]) == 0
    with open(os.path.join(out, "keras_albert_export.json")) as f:
        settings = json.load(f)
    assert settings["task"] == "question_answerer"
    assert settings["preprocessor"]["class"] == (
        "AlbertQuestionAnsweringPreprocessor")
    assert settings["preprocessor"]["config"]["doc_stride"] == 16
    assert os.path.isfile(os.path.join(out, "assets.extra", "spiece.model"))


def test_served_span_follows_the_decoding_rule(spm_path):
    """With a tokenizer, the in-graph span never ends on a lone "▁", the
    rule `predict_answers` decodes with; the settings record it."""
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertQuestionAnswerer
    from keras_albert import AlbertTokenizer
    from keras_albert.export.serving_model import export_settings
    from keras_albert.preprocessing import (
        AlbertQuestionAnsweringPreprocessor,
    )
    from keras_albert.preprocessing.token_alignment import (
        textless_piece_ids,
    )

    tokenizer = AlbertTokenizer(proto=spm_path)
    model = AlbertQuestionAnswerer(
        AlbertBackbone(**TINY_CONFIG),
        preprocessor=AlbertQuestionAnsweringPreprocessor(tokenizer))
    textless = textless_piece_ids(tokenizer)
    assert textless
    assert export_settings(model, None)["excluded_end_piece_ids"] == list(
        textless)
    x = _tokens((8, 12), seed=3)
    x["token_ids"][:, 4:10:2] = textless[0]
    out = _keras_outputs(model, x)
    ends = x["token_ids"][np.arange(8), out["span_end"]]
    assert not np.isin(ends, textless).any()
