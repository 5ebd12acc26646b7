"""The README's main job, end to end: `keras-albert quickstart --fast` once
(TensorFlow), its outputs checked and fed to the next commands."""

import json
import os

import keras
import pytest


def test_training_curves_say_what_they_show():
    from keras_albert.quickstart import training_curves_figure

    fig = training_curves_figure(
        {"mlm_mlm_accuracy": [0.1, 0.2], "sop_sop_accuracy": [0.5, 0.6]}, 150,
        {"from pretrained": {"val_accuracy": [0.4, 0.6, 0.7]},
         "from random init": {"val_accuracy": [0.3, 0.4, 0.5]}},
        baseline=0.354)
    pretraining, finetuning = fig.axes
    for ax in (pretraining, finetuning):
        assert ax.get_ylabel() == "accuracy"
        assert ax.get_ylim() == (0.0, 1.0)
    assert "training batches" in pretraining.get_title()
    assert pretraining.get_xlabel() == "pretraining step"
    lines = {line.get_label(): line for line in pretraining.get_lines()}
    assert list(lines["MLM accuracy"].get_xdata()) == [150, 300]
    assert list(lines["SOP chance (0.5)"].get_ydata()) == [0.5, 0.5]
    lines = {line.get_label(): line for line in finetuning.get_lines()}
    assert list(lines["from pretrained"].get_xdata()) == [1, 2, 3]
    assert list(lines["majority class (0.354)"].get_ydata()) == [0.354] * 2
    assert [t for t in finetuning.get_xticks()] == [1, 2, 3]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_fast_and_explicit_settings():
    import argparse

    from keras_albert import quickstart

    parser = argparse.ArgumentParser()
    quickstart.add_parser(parser.add_subparsers())
    full = quickstart.settings_from_args(parser.parse_args(["quickstart"]))
    assert full == quickstart.FULL_SETTINGS
    fast = quickstart.settings_from_args(
        parser.parse_args(["quickstart", "--fast"]))
    assert fast == quickstart.FAST_SETTINGS
    assert fast["pretrain_steps"] < full["pretrain_steps"]
    mixed = quickstart.settings_from_args(parser.parse_args(
        ["quickstart", "--fast", "--finetune-epochs", "5"]))
    assert mixed == dict(quickstart.FAST_SETTINGS, finetune_epochs=5)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """`keras-albert quickstart --fast` as a user runs it."""
    import contextlib
    import io

    from keras_albert.cli import main

    out = tmp_path_factory.mktemp("fast") / "quickstart_output"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["quickstart", "--fast", "--output", str(out)]) == 0
    return out, printed.getvalue()


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="one end-to-end run is enough; it uses the default backend",
)
def test_fast_quickstart_labels_its_runs(fast_run):
    from keras_albert.quickstart import FAST_SETTINGS

    out, printed = fast_run
    results = json.loads((out / "results.json").read_text())
    assert results["pretrain_steps"] == FAST_SETTINGS["pretrain_steps"]
    assert results["finetune_epochs"] == FAST_SETTINGS["finetune_epochs"]
    assert set(results["stage_seconds"]) == {
        "corpus", "tokenizer", "pretraining", "finetuning_from_pretrained",
        "finetuning_from_random"}
    for stage in range(1, 6):
        assert f"[{stage}/5]" in printed
    assert "[4/5] fine-tuning FROM PRETRAINED" in printed
    assert "[5/5] fine-tuning FROM RANDOM INITIALISATION" in printed
    epochs = FAST_SETTINGS["finetune_epochs"]
    for run in ("from pretrained", "from random init"):
        for epoch in range(1, epochs + 1):
            assert f"{run}, epoch {epoch}/{epochs}: loss" in printed
    assert (out / "training_curves.png").stat().st_size > 1000
    assert set(results) >= {
        "mlm_accuracy", "sop_accuracy", "accuracy_from_pretrained",
        "accuracy_from_random", "majority_baseline",
    }
    for key in ("accuracy_from_pretrained", "accuracy_from_random"):
        assert 0.0 <= results[key] <= 1.0
    assert os.path.isfile(out / "classifier" / "task.weights.h5")
    import keras_albert

    restored = keras_albert.AlbertClassifier.from_preset(
        str(out / "classifier"))
    assert restored.predict(["Return a logger."], verbose=0).shape == (1, 4)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="one end-to-end run is enough; it uses the default backend",
)
def test_quickstart_output_works_with_every_command(fast_run, tmp_path,
                                                    capsys):
    """quickstart -> finetune --preset quickstart_output/pretrained (a TSV
    without header) -> export for TF Serving -> loaded and run in a fresh
    process -> predict_labels of the fine-tuned preset."""
    from keras_albert import AlbertClassifier
    from keras_albert.cli import main
    from keras_albert.datasets import load_python_docs

    out, _ = fast_run
    docs = load_python_docs(["json", "logging"])
    rows = [f"{package}\t{sentence}" for package, sentences in docs
            for sentence in sentences[:12]]
    train = tmp_path / "train.tsv"
    train.write_text("\n".join(rows) + "\n")
    finetuned = str(tmp_path / "finetuned")
    assert main(["finetune", "--task", "classify", "--preset",
                 str(out / "pretrained"), "--train", str(train),
                 "--eval", str(train), "--text-column", "1",
                 "--label-column", "0", "--epochs", "1", "--batch-size", "8",
                 "--output", finetuned, "--no-progress"]) == 0
    assert AlbertClassifier.from_preset(finetuned).predict_labels(
        ["Return a logger."]).tolist()[0] in ("json", "logging")
    base = tmp_path / "savedmodels"
    assert main(["export", finetuned, str(base), "--model-name", "docs",
                 "--version", "1", "--check"]) == 0
    printed = capsys.readouterr().out
    assert "serving_default: labels (1,), logits (1, 2)" in printed
    assert 'name: "docs"' in (base / "models.config").read_text()
    # The classifier preset the quickstart wrote exports too.
    assert main(["export", str(out / "classifier"), str(base),
                 "--model-name", "quickstart", "--version", "1"]) == 0
    assert "lists docs, quickstart." in capsys.readouterr().out
