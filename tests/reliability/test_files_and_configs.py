"""Bad config files, bad config values and bad output paths: a clear error
of the library's type naming the file and the field (with a did-you-mean
suggestion for a misspelt key), and nothing on disk changed."""

import json
import logging
import os
import shutil

import keras
import numpy as np
import pytest

from keras_albert.presets.errors import PresetError
from tests.conftest import TINY_CONFIG
from tests.utils.test_atomic_files import tree


@pytest.fixture(scope="module")
def classifier(spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    keras.utils.set_random_seed(11)
    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=16)
    return AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=3,
                            preprocessor=preprocessor, dropout=0.0)


@pytest.fixture(scope="module")
def saved(classifier, tmp_path_factory):
    """`{format: folder}` of the classifier saved in each format."""
    root = tmp_path_factory.mktemp("saved")
    out = {}
    for fmt in ("keras_albert", "hf", "google"):
        out[fmt] = str(root / fmt)
        classifier.save_to_preset(out[fmt], format=fmt)
    return out


def copy_of(source, tmp_path):
    target = str(tmp_path / "preset")
    shutil.copytree(source, target)
    return target


def edit_json(path, edit):
    with open(path) as f:
        text = f.read()
    result = edit(text)
    with open(path, "w") as f:
        f.write(result if isinstance(result, str) else json.dumps(result))


def inner(key, value):
    """Sets (or with `...`, deletes) `config[key]` of a Keras JSON file."""
    def edit(text):
        obj = json.loads(text)
        if value is ...:
            obj["config"].pop(key)
        else:
            obj["config"][key] = value
        return obj
    return edit


def outer(key, value):
    """Sets (or with `...`, deletes) a top-level key of a JSON file."""
    def edit(text):
        obj = json.loads(text)
        if value is ...:
            obj.pop(key)
        else:
            obj[key] = value
        return obj
    return edit


# (file, edit, words the message must hold)
KERAS_ALBERT_FILES = [
    ("config.json", lambda t: t[:-20], ["config.json", "not valid JSON"]),
    ("config.json", lambda t: "", ["config.json", "not valid JSON"]),
    ("config.json", lambda t: "[1, 2]", ["config.json", "JSON object",
                                         "list"]),
    ("config.json", lambda t: "\xff\xfe".encode("latin-1").decode("latin-1"),
     ["config.json", "not valid JSON"]),
    ("config.json", outer("config", ...), ["config.json", "no `config`"]),
    ("config.json", outer("config", "oops"), ["config.json", "`config`",
                                              "str"]),
    ("config.json", inner("hidden_dim", -1), ["config.json", "hidden_dim",
                                              "positive integer", "-1"]),
    ("config.json", inner("num_layers", 2.5), ["config.json", "num_layers"]),
    ("config.json", inner("num_heads", "2"), ["config.json", "num_heads"]),
    ("config.json", inner("dropout", "x"), ["config.json", "dropout",
                                            "[0, 1)"]),
    ("config.json", inner("dropout", 1.5), ["config.json", "dropout"]),
    ("config.json", inner("layer_norm_epsilon", -1e-5),
     ["config.json", "layer_norm_epsilon"]),
    ("config.json", inner("vocabulary_size", None),
     ["config.json", "vocabulary_size"]),
    ("config.json", inner("activation", "gelux"),
     ["config.json", "activation", "gelux"]),
    ("config.json", inner("sharing", "some"), ["config.json", "sharing"]),
    ("config.json", inner("num_layerz", 3),
     ["config.json", "'num_layerz'", "did you mean 'num_layers'"]),
    ("config.json", inner("num_heads", ...), ["config.json", "num_heads"]),
    ("task.json", lambda t: t[:-20], ["task.json", "not valid JSON"]),
    ("task.json", lambda t: "[]", ["task.json", "JSON object"]),
    ("task.json", outer("config", ...), ["task.json", "no `config`"]),
    ("task.json", inner("num_classes", "x"), ["task.json", "num_classes"]),
    ("task.json", inner("num_classes", 0), ["task.json", "num_classes"]),
    ("task.json", inner("dropout", "x"), ["task.json", "dropout"]),
    ("task.json", inner("num_clases", 3),
     ["task.json", "'num_clases'", "did you mean 'num_classes'"]),
    ("preprocessor.json", lambda t: "[]", ["preprocessor.json",
                                           "JSON object"]),
    ("preprocessor.json", lambda t: t[:-5], ["preprocessor.json",
                                             "not valid JSON"]),
    ("preprocessor.json", outer("config", 3), ["preprocessor.json",
                                               "`config`"]),
    ("tokenizer.json", lambda t: "[]", ["tokenizer.json", "JSON object"]),
    ("tokenizer.json", lambda t: "{}", ["tokenizer.json", "`config`"]),
]


def _check(error, words):
    message = str(error)
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize(
    "file,edit,words", KERAS_ALBERT_FILES,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(KERAS_ALBERT_FILES)])
def test_damaged_preset_files(saved, tmp_path, file, edit, words):
    from keras_albert import AlbertClassifier

    preset = copy_of(saved["keras_albert"], tmp_path)
    edit_json(os.path.join(preset, file), edit)
    before = tree(preset)
    with pytest.raises(PresetError) as info:
        AlbertClassifier.from_preset(preset)
    _check(info.value, words)
    assert tree(preset) == before
    assert os.listdir(tmp_path) == ["preset"]


# (format, file, edit, words)
CONVERTED_FILES = [
    ("hf", "config.json", outer("num_hiden_layers", 2),
     ["config.json", "'num_hiden_layers'",
      "did you mean 'num_hidden_layers'"]),
    ("hf", "config.json", outer("hidden_dropout_prb", 0.3),
     ["did you mean 'hidden_dropout_prob'"]),
    ("hf", "config.json", outer("layer_norm_epsilon", 1e-5),
     ["did you mean 'layer_norm_eps'"]),
    ("hf", "config.json", outer("hidden_size", "abc"),
     ["config.json", "hidden_size", "positive integer"]),
    ("hf", "config.json", outer("hidden_size", -1),
     ["config.json", "hidden_size"]),
    ("hf", "config.json", outer("num_hidden_layers", 2.5),
     ["config.json", "num_hidden_layers"]),
    ("hf", "config.json", outer("hidden_dropout_prob", "x"),
     ["config.json", "hidden_dropout_prob"]),
    ("hf", "config.json", outer("layer_norm_eps", "x"),
     ["config.json", "layer_norm_eps"]),
    ("hf", "config.json", outer("vocab_size", ...), ["vocab_size"]),
    ("hf", "config.json", lambda t: "[]", ["config.json", "JSON object"]),
    ("google", "albert_config.json", outer("num_hiden_layers", 2),
     ["albert_config.json", "did you mean 'num_hidden_layers'"]),
    ("google", "albert_config.json", outer("hidden_size", "abc"),
     ["albert_config.json", "hidden_size"]),
    ("google", "albert_config.json", outer("intermediate_size", 0),
     ["albert_config.json", "intermediate_size"]),
    ("google", "albert_config.json", lambda t: "[]",
     ["albert_config.json", "JSON object"]),
]


@pytest.mark.parametrize(
    "fmt,file,edit,words", CONVERTED_FILES,
    ids=[f"{f}-{i}" for i, (f, _, _, _) in enumerate(CONVERTED_FILES)])
def test_damaged_converted_configs(saved, tmp_path, fmt, file, edit, words):
    from keras_albert import AlbertClassifier

    preset = copy_of(saved[fmt], tmp_path)
    edit_json(os.path.join(preset, file), edit)
    before = tree(preset)
    with pytest.raises(PresetError) as info:
        AlbertClassifier.from_preset(preset)
    _check(info.value, words)
    assert tree(preset) == before


def test_foreign_keys_of_transformers_configs_are_fine(saved, tmp_path,
                                                       caplog):
    from transformers import AlbertConfig

    from keras_albert import AlbertBackbone

    preset = copy_of(saved["hf"], tmp_path)
    defaults = AlbertConfig().to_dict()
    edit_json(os.path.join(preset, "config.json"), lambda t: dict(
        {k: v for k, v in defaults.items() if k not in json.loads(t)},
        **json.loads(t), my_own_note="kept", classifier_dropout=None))
    with caplog.at_level(logging.DEBUG, logger="keras_albert"):
        backbone = AlbertBackbone.from_preset(preset)
    assert backbone.num_layers == TINY_CONFIG["num_layers"]
    ignored = [r.getMessage() for r in caplog.records
               if "ignoring keys" in r.getMessage()]
    assert len(ignored) == 1 and "my_own_note" in ignored[0]


BAD_ARGUMENTS = [
    ({"num_layerz": 3}, ["'num_layerz'", "did you mean 'num_layers'"]),
    ({"dropuot": 0.1}, ["did you mean 'dropout'"]),
    ({"hidden_dim": -1}, ["`hidden_dim`", "positive integer"]),
    ({"hidden_dim": 0}, ["`hidden_dim`"]),
    ({"num_layers": 2.5}, ["`num_layers`"]),
    ({"num_layers": True}, ["`num_layers`"]),
    ({"num_heads": "2"}, ["`num_heads`"]),
    ({"dropout": "x"}, ["`dropout`", "[0, 1)"]),
    ({"attention_dropout": 1.0}, ["`attention_dropout`"]),
    ({"vocabulary_size": None}, ["`vocabulary_size`"]),
    ({"layer_norm_epsilon": -1.0}, ["`layer_norm_epsilon`"]),
    ({"initializer_range": float("nan")}, ["`initializer_range`"]),
    ({"max_sequence_length": 0}, ["`max_sequence_length`"]),
    ({"num_segments": -2}, ["`num_segments`"]),
    ({"sharing": "some"}, ["`sharing`"]),
    ({"activation": "gelux"}, ["`activation`", "gelux"]),
    ({"activation": 3}, ["`activation`"]),
    ({"num_heads": 3}, ["divisible"]),
    ({"trainable": "yes"}, ["`trainable`"]),
]


@pytest.mark.parametrize("extra,words", BAD_ARGUMENTS,
                         ids=[next(iter(e)) + f"-{i}" for i, (e, _)
                              in enumerate(BAD_ARGUMENTS)])
def test_bad_backbone_arguments(extra, words):
    from keras_albert import AlbertBackbone

    with pytest.raises(ValueError) as info:
        AlbertBackbone(**dict(TINY_CONFIG, **extra))
    _check(info.value, words)


def test_integral_floats_from_json_are_accepted():
    from keras_albert import AlbertBackbone

    backbone = AlbertBackbone(**dict(TINY_CONFIG, num_layers=2.0))
    assert backbone.num_layers == 2 and backbone.get_config()[
        "num_layers"] == 2


def test_unknown_task_arguments_are_refused(classifier):
    from keras_albert import AlbertClassifier

    with pytest.raises(ValueError, match="did you mean 'dropout'"):
        AlbertClassifier(classifier.backbone, num_classes=2, dropuot=0.3)


def test_overrides_are_checked_as_arguments_not_as_the_file(saved):
    from keras_albert import AlbertBackbone

    with pytest.raises(ValueError) as info:
        AlbertBackbone.from_preset(saved["keras_albert"], num_layerz=1)
    assert not isinstance(info.value, PresetError)
    _check(info.value, ["did you mean 'num_layers'"])
    with pytest.raises(ValueError, match="did you mean 'num_layers'"):
        AlbertBackbone.from_preset(saved["hf"], num_layerz=1)
    with pytest.raises(ValueError, match="did you mean 'num_layers'"):
        AlbertBackbone.from_preset("base", load_weights=False, num_layerz=1)


PRETRAIN_CONFIGS = [
    ('{"num_layerz": 2}', ["--backbone-config", "'num_layerz'",
                           "did you mean 'num_layers'"]),
    ('{"hidden_dim": -4}', ["--backbone-config", "`hidden_dim`"]),
    ('[1, 2]', ["--backbone-config", "JSON object"]),
    ('{num_layers: 2', ["--backbone-config", "neither a file nor JSON"]),
]


@pytest.mark.parametrize("value,words", PRETRAIN_CONFIGS)
def test_pretrain_backbone_config_is_checked_before_anything_runs(
        tmp_path, capsys, value, words):
    from keras_albert import cli

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text\n")
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        cli.main(["pretrain", "--corpus", str(corpus), "--output", str(out),
                  "--backbone-config", value])
    _check(info.value.code, words)
    assert "\n" not in str(info.value.code).strip()
    assert not out.exists()  # no tokenizer trained, nothing written


def test_pretraining_config_dicts_are_checked():
    from keras_albert.pretraining import PretrainingConfig

    with pytest.raises(ValueError, match="did you mean 'steps'"):
        PretrainingConfig.from_dict({"stepz": 5})
    with pytest.raises(ValueError, match="backbone_config.*num_layerz"):
        PretrainingConfig(backbone_config=dict(TINY_CONFIG, num_layerz=3))
    with pytest.raises(ValueError, match="backbone_overrides.*hidden_dim"):
        PretrainingConfig(backbone_overrides={"hidden_dim": -1})
    config = PretrainingConfig(steps=7)
    assert PretrainingConfig.from_dict(config.to_dict()) == config


# -- outputs -------------------------------------------------------------
def test_save_to_preset_onto_a_file_is_refused(classifier, tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a preset")
    with pytest.raises(FileExistsError, match="not a directory"):
        classifier.save_to_preset(str(target))
    assert target.read_text() == "not a preset"
    assert os.listdir(tmp_path) == ["taken"]


def test_save_to_preset_with_an_unknown_format_changes_nothing(
        saved, classifier, tmp_path):
    preset = copy_of(saved["keras_albert"], tmp_path)
    before = tree(preset)
    with pytest.raises(ValueError, match="Unknown format 'onnx'"):
        classifier.save_to_preset(preset, format="onnx")
    assert tree(preset) == before


def test_unconvertible_model_leaves_the_previous_hf_preset(saved, tmp_path):
    from keras_albert import AlbertBackbone

    preset = copy_of(saved["hf"], tmp_path)
    before = tree(preset)
    odd = AlbertBackbone(**dict(TINY_CONFIG, activation="silu"))
    odd.activation = "sigmoid"  # no transformers name
    with pytest.raises(PresetError, match="activation='sigmoid'"):
        odd.save_to_preset(preset, format="hf")
    assert tree(preset) == before
    assert os.listdir(tmp_path) == ["preset"]


def test_backbone_saved_over_a_classifier_leaves_no_stale_task(
        saved, classifier, tmp_path, caplog):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier

    preset = copy_of(saved["keras_albert"], tmp_path)
    (tmp_path / "preset" / "NOTES.md").write_text("my notes")
    keras.utils.set_random_seed(5)
    backbone = AlbertBackbone(**TINY_CONFIG)
    backbone.save_to_preset(preset)
    names = sorted(os.listdir(preset))
    assert "task.json" not in names and "task.weights.h5" not in names
    assert "NOTES.md" in names  # not a preset file: kept
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        loaded = AlbertClassifier.from_preset(preset, num_classes=3)
    assert any("task head initialised fresh" in r.getMessage()
               for r in caplog.records)
    for a, b in zip(loaded.backbone.weights, backbone.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    old_head = keras.ops.convert_to_numpy(classifier.head.kernel)
    assert not np.allclose(keras.ops.convert_to_numpy(loaded.head.kernel),
                           old_head)
    # Without weights the log says so, not "backbone from".
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        fresh = AlbertClassifier.from_preset(preset, num_classes=3,
                                             load_weights=False)
    messages = [r.getMessage() for r in caplog.records]
    assert any("every weight initialised fresh" in m for m in messages)
    assert not any("backbone from" in m for m in messages), messages
    assert not np.allclose(
        keras.ops.convert_to_numpy(fresh.backbone.weights[0]),
        keras.ops.convert_to_numpy(backbone.weights[0]))


def test_a_new_format_replaces_the_previous_one(saved, classifier, tmp_path):
    from keras_albert.presets import loader

    preset = copy_of(saved["keras_albert"], tmp_path)
    classifier.save_to_preset(preset, format="hf")
    assert loader.resolve(preset)[0] == "hf_dir"
    assert "task.json" not in os.listdir(preset)
