"""The task contract: registries derived from the classes, and a new task
that is one class and nothing else."""

import json

import keras
import numpy as np
import pytest

import keras_albert
from keras_albert import AlbertBackbone
from keras_albert.export.serving_model import export_settings
from keras_albert.export.serving_model import serving_model
from keras_albert.tasks import albert_task
from keras_albert.tasks import task_registry
from tests import hf_oracle
from tests.presets import sources

ALL_TASKS = {
    "classifier": keras_albert.AlbertClassifier,
    "early_exit_classifier": keras_albert.AlbertEarlyExitClassifier,
    "masked_lm": keras_albert.AlbertMaskedLM,
    "multiple_choice": keras_albert.AlbertMultipleChoice,
    "pretrainer": keras_albert.AlbertPretrainer,
    "question_answerer": keras_albert.AlbertQuestionAnswerer,
    "token_classifier": keras_albert.AlbertTokenClassifier,
}


def test_registry_is_derived_from_the_classes():
    classes = task_registry.model_classes()
    assert classes == {"backbone": AlbertBackbone, **ALL_TASKS}
    for name, cls in classes.items():
        assert cls.task_name == name
        assert task_registry.model_class(name) is cls
        # transformers has no early-exit model.
        assert cls.hf_architecture is None and (
            name == "early_exit_classifier"
        ) or cls.hf_architecture.startswith("Albert")
    assert set(task_registry.model_names(exportable_only=True)) == {
        "backbone", "classifier", "early_exit_classifier", "multiple_choice",
        "question_answerer", "token_classifier"}
    with pytest.raises(ValueError, match="Unknown model 'tagger'"):
        task_registry.model_class("tagger")


def test_a_task_name_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="already taken by AlbertClassifier"):
        type("Clash", (albert_task.AlbertTask,), {"task_name": "classifier"})
    assert task_registry.model_class("classifier") is (
        keras_albert.AlbertClassifier)


@pytest.mark.parametrize("arch, name", [
    ("AlbertModel", "backbone"),
    ("AlbertForMaskedLM", "masked_lm"),
    ("AlbertForPreTraining", "pretrainer"),
    ("AlbertForSequenceClassification", "classifier"),
    ("AlbertForTokenClassification", "token_classifier"),
    ("AlbertForQuestionAnswering", "question_answerer"),
    ("AlbertForMultipleChoice", "multiple_choice"),
])
def test_detect_task_of_hf_folders(tmp_path, arch, name):
    hf = hf_oracle.hf_model(arch)
    folder = sources.save_hf(hf, tmp_path / "hf")
    assert task_registry.detect_task(folder) == name


def test_detect_task_of_saved_presets(tmp_path, tiny_config):
    backbone = AlbertBackbone(**tiny_config)
    backbone.save_to_preset(str(tmp_path / "backbone"))
    assert task_registry.detect_task(str(tmp_path / "backbone")) == "backbone"
    classifier = keras_albert.AlbertClassifier(backbone, num_classes=3)
    classifier.save_to_preset(str(tmp_path / "classifier"))
    assert task_registry.detect_task(
        str(tmp_path / "classifier")) == "classifier"
    classifier.save_to_preset(str(tmp_path / "google"), format="google")
    assert task_registry.detect_task(str(tmp_path / "google")) == "classifier"


@pytest.fixture
def toy_task():
    """A task defined the way a contributor adds one: one class, nothing
    else; unregistered afterwards so other tests see the real registry."""

    class PooledScorer(albert_task.AlbertTask):
        task_name = "pooled_scorer_for_test"
        hf_architecture = None
        export_options = {"scale": 1.0}

        def __init__(self, backbone, preprocessor=None, **kwargs):
            inputs = backbone.input
            pooled = backbone(inputs)["pooled_output"]
            self.head = keras.layers.Dense(1, dtype=backbone.dtype_policy,
                                           name="score")
            super().__init__(inputs=inputs, outputs=self.head(pooled),
                             **kwargs)
            self.backbone = backbone
            self.preprocessor = preprocessor

        def serving_outputs(self, outputs, inputs, scale=1.0):
            return {"score": outputs * scale}

        def export_settings(self, scale=1.0):
            return {"scale": scale}

    yield PooledScorer
    albert_task._TASKS.pop(PooledScorer.task_name)


def test_a_new_task_is_one_class(tiny_config, toy_task):
    assert task_registry.model_class("pooled_scorer_for_test") is toy_task
    assert "pooled_scorer_for_test" in task_registry.model_names(True)
    model = toy_task(AlbertBackbone(**tiny_config))
    x = {"token_ids": np.array([[2, 10, 3, 0]]),
         "segment_ids": np.zeros((1, 4), "int32"),
         "padding_mask": np.array([[1, 1, 1, 0]])}
    want = keras.ops.convert_to_numpy(model(x))
    served = serving_model(model, scale=2.0)(x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(served["score"]), 2 * want, rtol=1e-6)
    settings = export_settings(model, None, scale=2.0)
    assert settings["task"] == "pooled_scorer_for_test"
    assert settings["scale"] == 2.0
    json.dumps(settings)
    # Another model's option is ignored; a name no model takes is an error.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(
        serving_model(model, max_answer_length=3)(x)["score"]), want,
        rtol=1e-6)
    with pytest.raises(ValueError, match=r"Unknown export option \['scal'\]"):
        serving_model(model, scal=2.0)
    # No transformers equivalent: the HF writer says so.
    from keras_albert.presets.errors import PresetError

    with pytest.raises(PresetError, match="no transformers equivalent"):
        model.save_to_preset("unused", format="hf")


def test_pretraining_tasks_are_not_served(tiny_config):
    model = keras_albert.AlbertMaskedLM(AlbertBackbone(**tiny_config))
    with pytest.raises(ValueError, match="export serves the backbone"):
        serving_model(model)
