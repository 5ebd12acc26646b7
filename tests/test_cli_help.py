"""`keras-albert --help` loads no TensorFlow, and commands print no start-up
noise. (How fast `--help` is, is measured by `benchmarks/cli_help.py`,
not asserted here.)"""

import ast
import importlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from keras_albert.utils.native_logs import keep_startup_line

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "jax", "torch", "keras_hub")


def _python(code, **env):
    environ = dict(os.environ, **env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, env=environ, cwd=str(ROOT),
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result


# What the `keras-albert` console script's process looks like to the
# package face while it imports (see keras_albert/__init__.py).
AS_THE_COMMAND = "import sys; sys.argv[0] = '/usr/bin/keras-albert'\n"


def test_help_of_every_command_imports_no_heavy_module():
    code = AS_THE_COMMAND + """
import contextlib, io, json, sys
import keras_albert.cli
loaded = [m for m in %r if m in sys.modules]
parser = keras_albert.cli.build_parser()
commands = sorted(parser._subparsers._group_actions[0].choices)
helps = {}
for argv in [["--help"]] + [[c, "--help"] for c in commands] + [
        ["tokenizer", "train", "--help"]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            keras_albert.cli.main(argv)
        except SystemExit as e:
            assert e.code == 0, (argv, e.code)
    helps[" ".join(argv)] = out.getvalue()
print(json.dumps({"loaded_on_import": loaded, "commands": commands,
                  "loaded_after_help": [m for m in %r if m in sys.modules],
                  "helps": helps}))
""" % (HEAVY, HEAVY)
    report = json.loads(_python(code).stdout)
    assert report["loaded_on_import"] == []
    assert report["loaded_after_help"] == []
    assert report["commands"] == ["convert", "export", "finetune",
                                  "pretrain", "quickstart", "tokenizer"]
    for argv, text in report["helps"].items():
        assert text.startswith("usage: keras-albert"), argv
    # finetune documents the file layouts it reads.
    assert "Without a header row" in report["helps"]["finetune --help"]
    assert "--fast" in report["helps"]["quickstart --help"]
    assert "--tokenizer" in report["helps"]["convert --help"]
    assert "--check" in report["helps"]["export --help"]


def test_package_faces_import_lazily_and_name_what_they_export():
    code = AS_THE_COMMAND + """
import json, sys
import keras_albert, keras_albert.finetuning, keras_albert.export
import keras_albert.pretraining
print(json.dumps([m for m in %r if m in sys.modules]))
""" % (HEAVY,)
    assert json.loads(_python(code).stdout) == []
    # Subpackages stay attributes of the package, as when it imported them.
    code = AS_THE_COMMAND + """
import keras_albert
print(keras_albert.tasks.AlbertTask.__name__,
      keras_albert.preprocessing.AlbertTokenizer.__name__)
"""
    assert _python(code).stdout.split() == ["AlbertTask", "AlbertTokenizer"]
    for face in ("keras_albert", "keras_albert.finetuning",
                 "keras_albert.export", "keras_albert.pretraining"):
        module = importlib.import_module(face)
        init = pathlib.Path(module.__file__)
        # The names type checkers see (under TYPE_CHECKING) are the names
        # the face exports, and each resolves.
        checked = set()
        for node in ast.walk(ast.parse(init.read_text())):
            if isinstance(node, ast.If) and getattr(
                    node.test, "id", None) == "TYPE_CHECKING":
                for imp in ast.walk(node):
                    if isinstance(imp, ast.ImportFrom):
                        checked.update(a.name for a in imp.names)
        exported = set(module.__all__) - {"__version__"}
        assert checked == exported, face
        for name in module.__all__:
            assert getattr(module, name) is not None
            assert name in dir(module)
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            getattr(module, "nope")


def test_a_bare_import_registers_the_classes_with_keras(tmp_path):
    """Outside the command, `import keras_albert` is enough for
    `keras.saving.load_model` (the lazy faces must not break that)."""
    path = tmp_path / "classifier.keras"
    save = f"""
import keras_albert
backbone = keras_albert.AlbertBackbone(
    vocabulary_size=50, num_layers=1, num_heads=2, embedding_dim=8,
    hidden_dim=16, intermediate_dim=32, max_sequence_length=16)
keras_albert.AlbertClassifier(backbone, num_classes=2).save({str(path)!r})
"""
    _python(save)
    load = f"""
import keras
import keras_albert
print(type(keras.saving.load_model({str(path)!r})).__name__)
"""
    assert _python(load).stdout.split()[-1] == "AlbertClassifier"


def test_task_names_are_the_registry_names(capsys):
    from keras_albert.cli import main
    from keras_albert.tasks import task_registry

    names = task_registry.model_names()
    exportable = task_registry.model_names(exportable_only=True)
    for command, valid in (("convert", names), ("export", exportable)):
        assert main([command, "missing", "out", "--task", "tagger"]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        listed = err.split("one of: ")[1].rstrip(".").split(", ")
        assert listed == list(valid), command
    for name in names:
        assert task_registry.checked_model_name(name) == name
    assert task_registry.checked_model_name("auto") == "auto"
    # The names the help gives as examples exist.
    from keras_albert.cli import build_parser

    parser = build_parser()
    for command in ("convert", "export"):
        text = parser._subparsers._group_actions[0].choices[
            command].format_help()
        assert "backbone" in text and "classifier" in text
    assert {"backbone", "classifier"} <= set(exportable)


@pytest.mark.parametrize("line, level, gpu, kept", [
    ("WARNING: All log messages before absl::InitializeLog() is called are "
     "written to STDERR", 1, False, False),
    ("I0000 00:00:1.0 123 port.cc:153] oneDNN custom operations are on.",
     1, False, False),
    ("I0000 00:00:1.0 123 cudart_stub.cc:31] Could not find cuda drivers",
     1, False, False),
    ("I0000 00:00:1.0 123 cudart_stub.cc:31] Could not find cuda drivers",
     0, False, True),
    ("W0000 00:00:1.0 123 some.cc:1] a real warning", 1, False, True),
    ("W0000 00:00:1.0 123 some.cc:1] a real warning", 2, False, False),
    ("E0000 00:00:1.0 123 cuda_platform.cc:52] failed call to cuInit: "
     "INTERNAL: CUDA error: UNKNOWN ERROR (303)", 1, False, False),
    ("E0000 00:00:1.0 123 cuda_platform.cc:52] failed call to cuInit: "
     "INTERNAL: CUDA error: UNKNOWN ERROR (303)", 1, True, True),
    ("E0000 00:00:1.0 123 other.cc:9] an error", 1, False, True),
    ("/site-packages/x.py:3: UserWarning: something", 1, False, True),
])
def test_start_up_lines_kept_or_dropped(line, level, gpu, kept):
    assert keep_startup_line(line, level, gpu) is kept


def test_filtered_native_stderr_drops_only_what_it_is_told():
    code = AS_THE_COMMAND + """
import os, sys
from keras_albert.utils.native_logs import filtered_native_stderr
with filtered_native_stderr(lambda line: "noise" not in line):
    os.write(2, b"native noise\\nnative signal\\n")
    print("python signal", file=sys.stderr)
    print("python noise", file=sys.stderr)
print("after", file=sys.stderr)
"""
    result = _python(code)
    assert result.stderr.splitlines() == [
        "native signal", "python signal", "after"]


def test_a_command_prints_no_tensorflow_start_up_noise(tmp_path):
    """The installed command on this (GPU-less) machine: the only stderr
    line of a failing conversion is the error itself."""
    environ = {k: v for k, v in os.environ.items()
               if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "keras_albert.cli", "convert",
         str(tmp_path / "missing"), str(tmp_path / "out")],
        capture_output=True, text=True, env=environ, cwd=str(ROOT),
        timeout=300)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Unknown preset" in lines[0], result.stderr


def test_tokenizer_train_refuses_a_directory_output(tmp_path, capsys):
    from keras_albert.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text for a tokenizer\n" * 20)
    out = tmp_path / "models"
    out.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["tokenizer", "train", "--corpus", str(corpus),
                 "--vocab-size", "30", "--output", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "is a directory" in err and "spiece.model" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(out.iterdir()) == []
