"""Static checks of the committed notebooks (`run_notebooks.check`), each
shown able to fail on a deliberately broken in-memory notebook, and the
tiny preset the notebooks' CI runs load. Cheap and backend independent, so
they run in the TensorFlow environment only."""

import copy
import os

import keras
import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_markdown_cell
from nbformat.v4 import new_notebook
from nbformat.v4 import new_output

from tests.notebooks import REPO_ROOT
from tests.notebooks import runner

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="static checks do not depend on the backend; TensorFlow runs them")

REPO_URL = "https://github.com/keras-albert/keras-albert"
FILE_NAME = "99_example.ipynb"
INSTALL_CELL = f'''import importlib.util, os, subprocess, sys
REPO_URL = "{REPO_URL}"
if importlib.util.find_spec("keras_albert") is None:  # a fresh Colab runtime
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", f"keras-albert[plot] @ git+{{REPO_URL}}"])
os.environ["KERAS_BACKEND"] = KERAS_BACKEND
import keras
import keras_albert
print("Keras", keras.__version__)'''


def _good_notebook():
    """A small notebook that follows every convention, as `run --write`
    leaves it."""
    cells = [
        new_markdown_cell(f"# Example\n\n{runner.colab_badge(REPO_URL, FILE_NAME)}"
                          "\n\nRuntime: CPU."),
        new_code_cell('KERAS_BACKEND = "tensorflow"  # backend\n'
                      "STEPS = 1000  # training steps",
                      metadata={"tags": ["parameters"]}),
        new_code_cell(INSTALL_CELL),
        new_code_cell("print(STEPS)", outputs=[
            new_output("stream", name="stdout", text="5\n")]),
    ]
    for count, cell in enumerate(cells[1:], start=1):
        cell.execution_count = count
        cell.metadata["keras_albert"] = {
            "source_sha256": runner.source_sha256(cell.source)}
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3",
                       "language": "python"},
        "language_info": {"name": "python"},
        "keras_albert": {
        "ci_parameters": {"STEPS": 5},
        "last_run": {"duration_s": 12.3, "backend": "tensorflow"}}})


def _problems(nb):
    return runner.check_notebook(nb, FILE_NAME, REPO_URL)


def test_a_conforming_notebook_passes():
    assert _problems(_good_notebook()) == []


def _restamp(cell):
    cell.metadata["keras_albert"]["source_sha256"] = runner.source_sha256(
        cell.source)


def _wrong_badge(nb):
    nb.cells[0].source = nb.cells[0].source.replace("keras-albert/keras-albert",
                                                    "someone/keras-albert")


def _no_title(nb):
    nb.cells[0].source = nb.cells[0].source.replace("# Example\n", "Example\n")


def _no_runtime(nb):
    nb.cells[0].source = nb.cells[0].source.replace("Runtime: CPU.", "")


def _untagged_parameters(nb):
    nb.cells[1].metadata["tags"] = []


def _unknown_ci_parameter(nb):
    nb.metadata["keras_albert"]["ci_parameters"]["EPOCHS"] = 1


def _no_ci_parameters(nb):
    del nb.metadata["keras_albert"]["ci_parameters"]


def _unguarded_install(nb):
    cell = nb.cells[2]
    cell.source = cell.source.replace(
        'if importlib.util.find_spec("keras_albert") is None:  # a fresh Colab'
        ' runtime\n    ', "")
    _restamp(cell)


def _placeholder_install(nb):
    cell = nb.cells[2]
    cell.source = cell.source.replace(REPO_URL,
                                      "https://github.com/<you>/keras-albert")
    _restamp(cell)


def _keras_before_backend(nb):
    cell = nb.cells[2]
    cell.source = "import keras\n" + cell.source
    _restamp(cell)


def _keras_in_parameters(nb):
    cell = nb.cells[1]
    cell.source = "from keras import ops\n" + cell.source
    _restamp(cell)


def _edited_after_run(nb):
    nb.cells[3].source = "print(STEPS * 2)"


def _not_executed(nb):
    nb.cells[3].execution_count = None


def _out_of_order(nb):
    nb.cells[3].execution_count = 1


def _error_output(nb):
    nb.cells[3].outputs.append(new_output(
        "error", ename="ValueError", evalue="bad", traceback=["ValueError"]))


def _other_kernel(nb):
    nb.metadata["kernelspec"]["name"] = "ir"


def _no_last_run(nb):
    del nb.metadata["keras_albert"]["last_run"]


def _output_path(text):
    def mutate(nb):
        nb.cells[3].outputs[0].text = text
    return mutate


def _source_path(nb):
    cell = nb.cells[1]
    cell.source += '\nDATA = "/home/me/data.txt"  # data'
    _restamp(cell)


def _html_path(nb):
    nb.cells[3].outputs.append(new_output(
        "display_data", data={"text/html": "<b>/work/x</b>"}))


BROKEN = {
    "wrong badge": (_wrong_badge, "lacks the Colab badge"),
    "no title": (_no_title, "`# title`"),
    "no runtime": (_no_runtime, "which Colab runtime"),
    "untagged parameters": (_untagged_parameters, "not tagged `parameters`"),
    "unknown ci parameter": (_unknown_ci_parameter,
                             "['EPOCHS'] are not assigned"),
    "no ci parameters": (_no_ci_parameters, "missing or empty"),
    "unguarded install": (_unguarded_install, "does not pip-install"),
    "placeholder install": (_placeholder_install, "does not set REPO_URL"),
    "keras before backend": (_keras_before_backend, "before importing keras"),
    "keras in parameters": (_keras_in_parameters,
                            "cell 1 imports Keras before"),
    "edited after run": (_edited_after_run, "cell 3: its outputs are older"),
    "not executed": (_not_executed, "cell 3 was not executed"),
    "out of order": (_out_of_order, "top to bottom"),
    "error output": (_error_output, "output is an error: ValueError"),
    "no last run": (_no_last_run, "last_run"),
    "other kernel": (_other_kernel, "kernelspec"),
    "tmp path": (_output_path("saved to /tmp/abc/x\n"), "absolute path"),
    "site-packages": (_output_path("lib/python3/site-packages/x.py:3\n"),
                      "absolute path"),
    "windows path": (_output_path("C:\\Users\\me\n"), "absolute path"),
    "source path": (_source_path, "cell 1 source holds an absolute path"),
    "html path": (_html_path, "cell 3 output holds an absolute path"),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_each_check_can_fail(breakage):
    mutate, expected = BROKEN[breakage]
    nb = _good_notebook()
    mutate(nb)
    problems = _problems(nb)
    assert any(expected in problem for problem in problems), problems


def test_urls_are_not_paths():
    nb = _good_notebook()
    _output_path("see https://example.com/tmp/x and <site-packages>/a.py\n")(nb)
    assert _problems(nb) == []


def test_readme_row_checks(tmp_path):
    nb = _good_notebook()
    badge = runner.colab_badge(REPO_URL, FILE_NAME)
    row = f"| [{FILE_NAME}](notebooks/{FILE_NAME}) | teaches | {badge} | CPU |"
    assert runner.check_readme_row(nb, FILE_NAME, REPO_URL,
                                   f"{row} 12 s |") == []
    assert "last run took '12 s'" in runner.check_readme_row(
        nb, FILE_NAME, REPO_URL, f"{row} 40 s |")[0]
    assert "0 table rows" in runner.check_readme_row(
        nb, FILE_NAME, REPO_URL, "no table")[0]
    del nb.metadata["keras_albert"]["last_run"]
    assert runner.check_readme_row(nb, FILE_NAME, REPO_URL,
                                   f"{row} - |") == []
    # `run --write` keeps the row in step with the run it records.
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{row} - |\nend\n")
    nb.metadata["keras_albert"]["last_run"] = {"duration_s": 41.6}
    assert runner.update_readme_duration(nb, FILE_NAME, str(readme))
    assert readme.read_text() == f"intro\n{row} 42 s |\nend\n"


def test_repo_url_is_written_once(tmp_path):
    assert runner.read_repo_url() == REPO_URL
    readme = tmp_path / "README.md"
    for text in ("no url here\n", f"REPO_URL: {REPO_URL}\nREPO_URL: {REPO_URL}\n"):
        readme.write_text(text)
        with pytest.raises(ValueError, match="exactly one line"):
            runner.read_repo_url(str(readme))


def test_clean_leaves_a_notebook_that_passes(tmp_path):
    """What papermill returns, cleaned by `run --write`: injected cell and
    timing metadata gone, C++ log lines and machine paths out of the
    outputs, cells stamped, the run recorded."""
    good = _good_notebook()
    executed = copy.deepcopy(good)
    for cell in executed.cells:
        cell.metadata.pop("keras_albert", None)
        cell.metadata["papermill"] = {"duration": 1.0, "status": "completed"}
        cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    injected = new_code_cell("STEPS = 5\n", metadata={
        "tags": ["injected-parameters"]})
    executed.cells.insert(2, injected)
    executed.metadata["papermill"] = {"input_path": "/tmp/x/99.ipynb"}
    scratch = str(tmp_path / "scratch")
    workdir = os.path.join(scratch, "notebooks")
    executed.cells[4].outputs = [
        new_output("stream", name="stdout", text=f"saved {workdir}/model\n"),
        new_output("stream", name="stdout", text=f"in {workdir}\n"),
        new_output("stream", name="stderr", text=(
            "I0000 00:00:1796192098.402176   15913 port.cc:153] oneDNN on.\n"
            f"{runner.sysconfig.get_paths()['purelib']}/tqdm/auto.py:21: "
            "TqdmWarning\n")),
    ]
    nb = runner.clean(executed, good, {"STEPS": 5}, "tensorflow", 3.21,
                      runner.path_replacements(scratch))
    assert _problems(nb) == []
    assert [c.source for c in nb.cells] == [c.source for c in good.cells]
    assert "papermill" not in nb.metadata
    assert all("papermill" not in c.metadata and "execution" not in c.metadata
               for c in nb.cells)
    assert [(o.name, o.text) for o in nb.cells[3].outputs] == [
        ("stdout", "saved model\nin .\n"),
        ("stderr", "<site-packages>/tqdm/auto.py:21: TqdmWarning\n")]
    last_run = nb.metadata["keras_albert"]["last_run"]
    assert last_run["duration_s"] == 3.2
    assert last_run["parameters"] == {"STEPS": 5}
    assert last_run["backend"] == "tensorflow"
    # The stamps are what the check compares: it passes, then an edit fails.
    nb.cells[3].source += "\n"
    assert any("older than its code" in p for p in _problems(nb))


@pytest.mark.parametrize(
    "path", runner.notebook_paths(), ids=os.path.basename)
def test_committed_notebook_passes_the_checks(path):
    assert runner.check([path]) == []


def test_every_notebook_is_numbered():
    """`all`, the checks and CI see `NN_*.ipynb` only; any other notebook
    would go unchecked."""
    names = sorted(n for n in os.listdir(runner.NOTEBOOKS_DIR)
                   if n.endswith(".ipynb"))
    assert names == [os.path.basename(p) for p in runner.notebook_paths()]
    assert "01_quickstart.ipynb" in names


def test_a_failing_cell_is_named_in_one_line(tmp_path):
    """The runner's message when a cell raises: notebook, cell, exception."""
    nb = _good_notebook()
    nb.cells[3].source = 'raise ValueError("broken on\\npurpose")'
    nb.cells = nb.cells[:2] + nb.cells[3:]  # no install cell: no Keras import
    path = tmp_path / FILE_NAME
    nbformat.write(nb, str(path))
    with pytest.raises(runner.NotebookError) as raised:
        runner.execute(str(path), timeout=120)
    assert str(raised.value) == (
        f"notebooks/{FILE_NAME} (backend tensorflow): cell 2 raised "
        "ValueError: broken on purpose")
    with pytest.raises(runner.NotebookError, match="runs on TensorFlow only"):
        nb.cells[1].source = "STEPS = 1000  # steps"
        nbformat.write(nb, str(path))
        runner.execute(str(path), backend="jax")


TINY_PRESET = os.path.join(REPO_ROOT, "notebooks", "data", "tiny_preset")


def test_tiny_preset_loads_with_its_tokenizer():
    import keras_albert

    backbone = keras_albert.AlbertBackbone.from_preset(TINY_PRESET)
    config = backbone.get_config()
    for key, value in {"num_layers": 2, "hidden_dim": 32, "num_heads": 2,
                       "embedding_dim": 16, "intermediate_dim": 64,
                       "max_sequence_length": 128}.items():
        assert config[key] == value, key
    classifier = keras_albert.AlbertClassifier.from_preset(
        TINY_PRESET, num_classes=2)
    tokenizer = classifier.preprocessor.tokenizer
    assert tokenizer.vocabulary_size() == backbone.vocabulary_size
    assert 300 <= backbone.vocabulary_size <= 500
    ids = keras.ops.convert_to_numpy(
        tokenizer(["Return a logger with the specified name."])).tolist()[0]
    assert ids and 1 not in ids  # English prose has no unknown pieces
    size = sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(TINY_PRESET) for name in names)
    assert size < 1_000_000
