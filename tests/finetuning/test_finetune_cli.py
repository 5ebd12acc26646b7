"""`keras-albert finetune` end to end on tiny files the tests write."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG

POSITIVE = ["this film was wonderful", "great acting and a great plot",
            "good movies make people happy", "wonderful and great"]
NEGATIVE = ["that film was terrible", "boring plot and bad acting",
            "bad movies make people sad", "terrible and boring"]


@pytest.fixture(scope="module")
def preset_dir(spm_path, tmp_path_factory):
    """A tiny backbone plus tokenizer, as `keras-albert convert` writes."""
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertTokenizer
    from keras_albert.presets.loader import save_preset

    path = str(tmp_path_factory.mktemp("preset") / "tiny")
    # A module fixture is built before the per-test seeding: seed it here,
    # or its weights depend on the tests that ran before.
    keras.utils.set_random_seed(0)
    save_preset(AlbertBackbone(**TINY_CONFIG), path,
                tokenizer=AlbertTokenizer(proto=spm_path))
    return path


def _write_tsv(path, rows, header):
    path.write_text("\n".join(["\t".join(header)] + [
        "\t".join(str(v) for v in row) for row in rows]) + "\n")
    return str(path)


def test_classify_prints_metrics_and_saves_a_preset(preset_dir, tmp_path,
                                                   capsys):
    from keras_albert import AlbertClassifier
    from keras_albert.cli import main

    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = _write_tsv(tmp_path / "train.tsv", rows * 4, ("sentence", "label"))
    dev = _write_tsv(tmp_path / "dev.tsv", rows, ("sentence", "label"))
    out = str(tmp_path / "out")
    status = main(["finetune", "--task", "classify", "--preset", preset_dir,
                   "--train", train, "--eval", dev, "--output", out,
                   # 20 epochs at 1e-3 learn from each of 8 random
                   # initialisations tried on every backend; 12 at 3e-3
                   # failed on 3 of 8.
                   "--epochs", "20", "--batch-size", "8",
                   "--learning-rate", "1e-3", "--layer-decay", "0.9",
                   "--seed", "0", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "mcc" in printed
    with open(os.path.join(out, "finetune_metrics.json")) as f:
        report = json.load(f)
    assert report["metrics"]["accuracy"] >= 0.75
    model = AlbertClassifier.from_preset(out)
    assert model.num_classes == 2
    # Labels were numbered in sorted order: neg=0, pos=1.
    logits = model.predict(np.array(POSITIVE + NEGATIVE), verbose=0)
    assert np.mean(logits.argmax(-1) == np.array([1] * 4 + [0] * 4)) >= 0.75


def test_regress_reports_correlations(preset_dir, tmp_path, capsys):
    from keras_albert.cli import main

    rows = [(a, b, float(a.count("good") + b.count("good")))
            for a in ("good film", "bad film", "good good plot")
            for b in ("a good dog", "a sad fox")]
    train = _write_tsv(tmp_path / "train.tsv", rows * 4,
                       ("sentence1", "sentence2", "score"))
    status = main(["finetune", "--task", "regress", "--preset", preset_dir,
                   "--train", train, "--eval", train, "--epochs", "2",
                   "--batch-size", "8", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "pearson" in printed and "spearman" in printed


def test_early_exit_exits_train_on_a_fine_tuned_classifier(preset_dir,
                                                          tmp_path, capsys):
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertEarlyExitClassifier
    from keras_albert.cli import main

    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = _write_tsv(tmp_path / "train.tsv", rows, ("sentence", "label"))
    fine_tuned = AlbertClassifier.from_preset(preset_dir, num_classes=2)
    fine_tuned.save_to_preset(str(tmp_path / "classifier"))
    out = str(tmp_path / "early_exit")
    status = main(["finetune", "--task", "classify", "--preset",
                   str(tmp_path / "classifier"), "--train", train, "--eval",
                   train, "--output", out, "--epochs", "1", "--batch-size",
                   "8", "--early-exit-patience", "1", "--train-exits-only",
                   "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "mean_layers_used" in printed and "accuracy" in printed
    with open(os.path.join(out, "finetune_metrics.json")) as f:
        # Patience 1 on two layers: every text stops after layer 2.
        assert json.load(f)["metrics"]["mean_layers_used"] == 2.0
    model = AlbertEarlyExitClassifier.from_preset(out)
    assert model.patience == 1 and model.exits_trainable_only
    # The fine-tuned classifier is the last exit, unchanged.
    np.testing.assert_array_equal(model.head.get_weights()[0],
                                  fine_tuned.head.get_weights()[0])


def test_early_exit_flags_are_checked_first(preset_dir, tmp_path, capsys):
    from keras_albert.cli import main

    train = _write_tsv(tmp_path / "t.tsv", [("a film", "pos")],
                       ("sentence", "label"))
    for extra, message in (
            (["--task", "ner", "--early-exit-patience", "2"],
             "apply to --task classify or regress"),
            (["--task", "classify", "--train-exits-only"],
             "give --early-exit-patience too")):
        assert main(["finetune", "--preset", preset_dir, "--train", train,
                     *extra]) == 1
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune", "--task", "classify", "--preset", preset_dir,
              "--train", train, "--early-exit-patience", "0"])


def test_unlabelled_training_file_is_refused(preset_dir, tmp_path):
    from keras_albert.cli import main

    train = _write_tsv(tmp_path / "test.tsv", [(0, "hello")],
                       ("index", "sentence"))
    with pytest.raises(SystemExit, match="no label column"):
        main(["finetune", "--task", "classify", "--preset", preset_dir,
              "--train", train])


NAMES = ["Alice", "Bob", "Carol"]
CITIES = ["Paris", "Rome", "Oslo"]


def _run(preset_dir, task, train, out, *extra):
    from keras_albert.cli import main

    return main(["finetune", "--task", task, "--preset", preset_dir,
                 "--train", train, "--eval", train, "--output", out,
                 "--epochs", "1", "--batch-size", "4", "--seed", "0",
                 "--sequence-length", "48", "--no-progress", *extra])


def test_ner_from_conll(preset_dir, tmp_path, capsys):
    from keras_albert import AlbertTokenClassifier

    lines = ["-DOCSTART- -X- O", ""]
    for name in NAMES:
        for city in CITIES:
            lines += [f"{name} NNP B-PER", "lives VBZ O", "in IN O",
                      f"{city} NNP B-LOC", ""]
    train = tmp_path / "train.conll"
    train.write_text("\n".join(lines))
    out = str(tmp_path / "ner")
    assert _run(preset_dir, "ner", str(train), out) == 0
    printed = capsys.readouterr().out
    assert "f1_PER" in printed and "precision" in printed
    assert AlbertTokenClassifier.from_preset(out).labels == [
        "O", "B-LOC", "B-PER"]


def test_squad_v2_json(preset_dir, tmp_path, capsys):
    from keras_albert import AlbertQuestionAnswerer

    paragraphs = []
    for i, (name, city) in enumerate(zip(NAMES, CITIES)):
        context = f"{name} lives in {city}. The weather is mild."
        paragraphs.append({"context": context, "qas": [
            {"id": f"q{i}", "question": f"Where does {name} live?",
             "is_impossible": False, "answers": [
                 {"text": city, "answer_start": context.index(city)}]},
            {"id": f"n{i}", "question": "Who owns the moon?",
             "is_impossible": True, "answers": []},
        ]})
    train = tmp_path / "train-v2.0.json"
    train.write_text(json.dumps({"version": "v2.0", "data": [
        {"title": "towns", "paragraphs": paragraphs}]}))
    out = str(tmp_path / "squad")
    assert _run(preset_dir, "squad", str(train), out,
                "--doc-stride", "16") == 0
    printed = capsys.readouterr().out
    assert "exact_match" in printed and "NoAns_f1" in printed
    model = AlbertQuestionAnswerer.from_preset(out)
    assert model.preprocessor.doc_stride == 16
    assert model.preprocessor.sequence_length == 48


def test_race_jsonl(preset_dir, tmp_path, capsys):
    from keras_albert import AlbertMultipleChoice

    rows = []
    for i, city in enumerate(CITIES):
        options = list(CITIES) + ["London"]
        rows.append({"id": f"r{i}", "article": f"Dana moved to {city}.",
                     "questions": ["Where did Dana move?"],
                     "options": [options], "answers": ["ABC"[i]]})
    train = tmp_path / "race.jsonl"
    train.write_text("\n".join(json.dumps(r) for r in rows))
    out = str(tmp_path / "race")
    assert _run(preset_dir, "race", str(train), out) == 0
    assert "accuracy" in capsys.readouterr().out
    assert AlbertMultipleChoice.from_preset(out).num_choices == 4


def test_output_is_written_whole_or_not_at_all(preset_dir, tmp_path,
                                               monkeypatch, capsys):
    # Writing the scores fails after the model was saved: --output keeps
    # the previous model as it was, and no temporary folder stays behind.
    from keras_albert.cli import main
    from tests.utils.test_atomic_files import tree

    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = _write_tsv(tmp_path / "train.tsv", rows, ("sentence", "label"))
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    shutil.copytree(preset_dir, out)
    (out / "NOTES.md").write_text("kept")
    before = tree(str(out))
    dump = json.dump

    def full_disk(obj, f, **kwargs):
        if "metrics" in obj:
            raise OSError(28, "No space left on device")
        return dump(obj, f, **kwargs)

    monkeypatch.setattr(json, "dump", full_disk)
    status = main(["finetune", "--task", "classify", "--preset", preset_dir,
                   "--train", train, "--output", str(out), "--epochs", "1",
                   "--batch-size", "8", "--no-progress"])
    assert status == 1
    assert "No space left on device" in capsys.readouterr().err
    assert tree(str(out)) == before
    assert os.listdir(out.parent) == ["out"]

    monkeypatch.setattr(json, "dump", dump)
    assert main(["finetune", "--task", "classify", "--preset", preset_dir,
                 "--train", train, "--output", str(out), "--epochs", "1",
                 "--batch-size", "8", "--no-progress"]) == 0
    names = sorted(os.listdir(out))
    assert "task.json" in names and "finetune_metrics.json" in names
    assert (out / "NOTES.md").read_text() == "kept"
    assert os.listdir(out.parent) == ["out"]
