"""A mistake on the command line is one line and a non-zero exit, never a
traceback (unless asked for with --debug)."""

import os
import subprocess
import sys

import pytest

from keras_albert.cli import main


@pytest.mark.parametrize("argv, words", [
    (["finetune", "--task", "classify", "--preset", "p", "--train", "t",
      "--batch-size", "0"], "--batch-size: invalid positive integer"),
    (["finetune", "--task", "classify", "--preset", "p", "--train", "t",
      "--epochs", "-1"], "--epochs: invalid positive integer"),
    (["finetune", "--task", "classify", "--preset", "p", "--train", "t",
      "--learning-rate", "0"], "--learning-rate: invalid positive number"),
    (["finetune", "--task", "tag", "--preset", "p", "--train", "t"],
     "invalid choice: 'tag'"),
    (["convert", "a"], "required: destination"),
    (["nonsense"], "invalid choice: 'nonsense'"),
])
def test_usage_mistakes_are_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1, err


def _finetune(tmp_path, *extra):
    data = tmp_path / "train.tsv"
    data.write_text("sentence\tlabel\na\t0\n")
    return ["finetune", "--task", "classify", "--preset", "p",
            "--train", str(data), *extra]


def test_bad_settings_and_outputs_fail_before_training(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    for extra, words in [
        (("--output", str(taken)), "is an existing file"),
        (("--warmup-ratio", "1.5"), "--warmup-ratio must be in [0, 1)"),
        (("--layer-decay", "0"), "--layer-decay must be in (0, 1]"),
        (("--eval", str(tmp_path / "missing.tsv")), "no such file"),
    ]:
        assert main(_finetune(tmp_path, *extra)) == 1
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    assert taken.read_text() == "a file"


def test_runtime_errors_are_one_line_and_debug_shows_the_traceback(
        tmp_path, capsys):
    argv = ["convert", str(tmp_path / "missing"), str(tmp_path / "out")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("keras-albert convert: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(Exception, match="Unknown preset"):
        main(["--debug", *argv])


def test_the_installed_command_exits_non_zero_without_traceback(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "keras_albert.cli", "finetune", "--task",
         "classify", "--preset", "p", "--train", "t", "--batch-size", "0"],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--batch-size: invalid positive integer" in result.stderr
