"""Runs, stamps and checks the notebooks in this folder.

Every notebook `notebooks/NN_name.ipynb` follows the same conventions (the
README's "Notebooks" section): cell 0 is a title with the "Open in Colab"
badge derived from the README's `REPO_URL:` line, cell 1 is the papermill
`parameters` cell (real defaults for Colab), cell 2 installs the package
from `git+REPO_URL` when it is missing and selects `KERAS_BACKEND` before
Keras is imported, and `metadata["keras_albert"]["ci_parameters"]` holds
the small values CI runs it with.

    python notebooks/run_notebooks.py run 01_quickstart [--backend jax]
    python notebooks/run_notebooks.py run all --write
    python notebooks/run_notebooks.py check

`run` copies `notebooks/` to a temporary directory and executes each
notebook there with papermill (kernel `python3`, this interpreter), passing
its CI parameters and `KERAS_BACKEND=<--backend>`; a cell that raises ends
the run with one line naming the notebook, the cell and the exception.
`--write` then writes the executed notebook over the committed one: the
injected-parameters cell removed (Colab users run the real defaults), each
code cell stamped with the sha256 of its source, papermill's timing
metadata and TensorFlow's time-stamped C++ log lines dropped, machine
paths in the outputs replaced by neutral text,
and `metadata["keras_albert"]["last_run"]` recording the parameters, the
backend, the duration and the versions; the notebook's duration in the
README's table is updated to match. `check` runs the static checks
(`check_notebook`) that tests/notebooks/ also runs.

Only the standard library, nbformat and papermill are needed here (the
`test` extra installs them); the notebooks themselves import keras_albert.
"""

import argparse
import ast
import copy
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import time

NOTEBOOKS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(NOTEBOOKS_DIR)
README = os.path.join(REPO_ROOT, "README.md")
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
# The README line every URL is derived from, e.g.
# `REPO_URL: https://github.com/keras-albert/keras-albert`.
REPO_URL_LINE = re.compile(
    r"^REPO_URL: (https://github\.com/[\w.-]+/[\w.-]+)\s*$", re.MULTILINE)
COLAB_BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/"
    "colab-badge.svg)](https://colab.research.google.com/github/"
    "{owner_repo}/blob/main/notebooks/{file_name})")
KERNEL = "python3"
DEFAULT_TIMEOUT_S = 300
# Machine paths that must not appear in a committed notebook: a home or
# temporary directory, this machine's checkout, an installed package's
# location, a Windows drive. The lookbehinds leave URLs alone
# (`https://host/tmp/...`) and the neutral `<site-packages>` that `clean`
# writes.
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~-])/(?:work|tmp|home|root|Users)(?=/|\b)"
    r"|(?<!<)(?:site|dist)-packages|\b[A-Za-z]:\\")
# C++ log lines of TensorFlow/XLA (absl format: severity, date, time,
# thread, source:line), and absl's notice that precedes them: machine
# specific (CPU features, CUDA probing) and time-stamped, so they differ on
# every run; `clean` drops them from stderr outputs.
ABSL_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r" are written to STDERR)\n?", re.MULTILINE)
# Output data that is text (images are base64 and may contain "/tmp").
TEXT_MIME = re.compile(r"^(text/|application/(json|javascript))")


class NotebookError(Exception):
    """A notebook failed to run; `str()` is one line naming the notebook,
    the cell and the exception."""


# -- reading ---------------------------------------------------------------
def read_repo_url(readme=README):
    """The `REPO_URL:` line of the README (exactly one)."""
    with open(readme, encoding="utf-8") as f:
        found = REPO_URL_LINE.findall(f.read())
    if len(found) != 1:
        raise ValueError(
            f"{readme} must hold exactly one line `REPO_URL: "
            f"https://github.com/<owner>/<name>`; found {len(found)}.")
    return found[0]


def colab_badge(repo_url, file_name):
    """The "Open in Colab" badge line of notebook `file_name`."""
    owner_repo = repo_url.removeprefix("https://github.com/")
    return COLAB_BADGE.format(owner_repo=owner_repo, file_name=file_name)


def notebook_paths(names=("all",)):
    """Paths of the notebooks `names` (file names with or without
    `.ipynb`, or paths); `all` (or nothing) means every `NN_*.ipynb`."""
    every = sorted(glob.glob(os.path.join(NOTEBOOKS_DIR, NOTEBOOK_PATTERN)))
    if not names or "all" in names:
        return every
    paths = []
    for name in names:
        base = os.path.basename(name)
        if not base.endswith(".ipynb"):
            base += ".ipynb"
        path = os.path.join(NOTEBOOKS_DIR, base)
        if not os.path.isfile(path):
            raise ValueError(
                f"No notebook {base} in notebooks/; there are: "
                f"{', '.join(os.path.basename(p) for p in every)}.")
        paths.append(path)
    return paths


def read_notebook(path):
    import nbformat

    return nbformat.read(path, as_version=4)


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def source_sha256(source):
    """The stamp of a code cell: sha256 of its source text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def ci_parameters(nb):
    """`metadata["keras_albert"]["ci_parameters"]` (a dict, maybe empty)."""
    return dict(nb.get("metadata", {}).get("keras_albert", {})
                .get("ci_parameters", {}))


def parameter_names(nb):
    """Names assigned at the top level of the `parameters` cell (cell 1),
    in order; empty when there is no such cell or it does not parse."""
    if len(nb.cells) < 2:
        return []
    try:
        tree = ast.parse(cell_source(nb.cells[1]))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


# -- static checks ---------------------------------------------------------
def _check_header(nb, file_name, repo_url):
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown":
        return ["cell 0 is not a markdown cell (title and Colab badge)"]
    problems = []
    text = cell_source(cells[0])
    if not text.startswith("# "):
        problems.append("cell 0 does not start with a `# title` line")
    badge = colab_badge(repo_url, file_name)
    if badge not in text.splitlines():
        problems.append(f"cell 0 lacks the Colab badge line {badge}")
    if not re.search(r"\b(CPU|GPU|TPU)\b", text):
        problems.append("cell 0 does not say which Colab runtime it wants "
                        "(CPU / GPU / TPU)")
    return problems


def _check_parameters(nb):
    if len(nb.cells) < 2 or nb.cells[1].cell_type != "code":
        return ["cell 1 is not a code cell (the parameters cell)"]
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        problems.append(f"the notebook's kernelspec is {kernel!r}, not "
                        f"{KERNEL!r} (Colab's and the runner's)")
    if "parameters" not in nb.cells[1].get("metadata", {}).get("tags", []):
        problems.append("cell 1 is not tagged `parameters`")
    names = parameter_names(nb)
    if not names:
        problems.append("cell 1 assigns no parameters")
    ci = nb.get("metadata", {}).get("keras_albert", {}).get("ci_parameters")
    if not isinstance(ci, dict) or not ci:
        problems.append('metadata["keras_albert"]["ci_parameters"] is '
                        "missing or empty")
    else:
        unknown = sorted(set(ci) - set(names))
        if unknown:
            problems.append(f"ci_parameters {unknown} are not assigned in "
                            "the parameters cell")
    return problems


def _imports_keras(node):
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in ("keras", "keras_albert")
                   for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in ("keras", "keras_albert")
    return False


def _sets_backend(node):
    """`os.environ["KERAS_BACKEND"] = ...`"""
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Subscript) and ast.unparse(t) in (
            "os.environ['KERAS_BACKEND']",) for t in node.targets)


def _check_install_cell(nb, repo_url):
    if len(nb.cells) < 3 or nb.cells[2].cell_type != "code":
        return ["cell 2 is not a code cell (install and backend)"]
    for index, cell in enumerate(nb.cells[:2]):
        if cell.cell_type == "code":
            try:
                body = ast.parse(cell_source(cell)).body
            except SyntaxError:
                continue
            if any(_imports_keras(n) for n in ast.walk(ast.Module(body, []))):
                return [f"cell {index} imports Keras before cell 2 selects "
                        "the backend"]
    source = cell_source(nb.cells[2])
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return [f"cell 2 does not parse: {e}"]
    problems = []
    if f'REPO_URL = "{repo_url}"' not in source:
        problems.append(f'cell 2 does not set REPO_URL = "{repo_url}" '
                        "(the README's REPO_URL)")
    guarded_install = False
    for node in ast.walk(tree):
        if (isinstance(node, ast.If)
                and 'find_spec("keras_albert") is None'
                in ast.unparse(node.test).replace("'", '"')):
            body = ast.unparse(ast.Module(node.body, []))
            guarded_install = "git+{REPO_URL}" in body and "pip" in body
    if not guarded_install:
        problems.append(
            'cell 2 does not pip-install "...@ git+{REPO_URL}" under '
            '`if importlib.util.find_spec("keras_albert") is None:`')
    order = [("backend", n.lineno) for n in ast.walk(tree) if _sets_backend(n)]
    order += [("import", n.lineno) for n in ast.walk(tree)
              if _imports_keras(n)]
    order.sort(key=lambda item: item[1])
    if not order or order[0][0] != "backend":
        problems.append('cell 2 does not set os.environ["KERAS_BACKEND"] '
                        "before importing keras")
    return problems


def _check_execution(nb):
    problems = []
    counts = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        stamp = cell.get("metadata", {}).get("keras_albert", {}).get(
            "source_sha256")
        if stamp != source_sha256(cell_source(cell)):
            problems.append(
                f"cell {index}: its outputs are older than its code (source "
                "sha256 differs from its stamp); rerun with `python "
                "notebooks/run_notebooks.py run <notebook> --write`")
        if cell.get("execution_count") is None:
            problems.append(f"cell {index} was not executed")
        else:
            counts.append(cell.execution_count)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index} output is an error: "
                                f"{output.get('ename')}")
    if counts != sorted(set(counts)):
        problems.append("code cells were not executed top to bottom in one "
                        f"run (execution counts {counts})")
    if "last_run" not in nb.get("metadata", {}).get("keras_albert", {}):
        problems.append('metadata["keras_albert"]["last_run"] is missing')
    return problems


def _text_fields(cell):
    """(where, text) of a cell's source and its text outputs."""
    yield "source", cell_source(cell)
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "output", "".join(output["text"])
        for mime, value in output.get("data", {}).items():
            if TEXT_MIME.match(mime):
                yield "output", value if isinstance(value, str) else (
                    "".join(value) if isinstance(value, list)
                    else json.dumps(value))
        if "traceback" in output:
            yield "output", "\n".join(output["traceback"])


def _check_paths(nb):
    problems = []
    for index, cell in enumerate(nb.cells):
        for where, text in _text_fields(cell):
            match = ABSOLUTE_PATH.search(text)
            if match:
                line = text[max(0, match.start() - 30):match.end() + 30]
                problems.append(f"cell {index} {where} holds an absolute "
                                f"path: ...{' '.join(line.split())}...")
    return problems


def check_notebook(nb, file_name, repo_url):
    """The static checks of one notebook; a list of one-line problems
    (empty when it passes)."""
    return [*_check_header(nb, file_name, repo_url), *_check_parameters(nb),
            *_check_install_cell(nb, repo_url), *_check_execution(nb),
            *_check_paths(nb)]


def check_readme_row(nb, file_name, repo_url, readme_text):
    """Problems with notebook `file_name`'s row in the README's table: it
    must exist, hold the badge, and show the duration of the last run."""
    rows = [line for line in readme_text.splitlines()
            if line.startswith(f"| [{file_name}](")]
    if len(rows) != 1:
        return [f"README.md has {len(rows)} table rows for {file_name} "
                "(want 1)"]
    problems = []
    if colab_badge(repo_url, file_name) not in rows[0]:
        problems.append(f"README.md row of {file_name} lacks its Colab badge")
    want = readme_duration(nb)
    have = rows[0].rstrip().rstrip("|").rsplit("|", 1)[-1].strip()
    if have != want:
        problems.append(f"README.md row of {file_name} says it took {have!r}, "
                        f"its last run took {want!r}")
    return problems


def readme_duration(nb):
    """The README's "how long it took" text for `nb` ("-" before a run)."""
    last_run = nb.get("metadata", {}).get("keras_albert", {}).get(
        "last_run")
    if not last_run:
        return "-"
    return f"{round(last_run['duration_s'])} s"


def check(paths, readme=README):
    """Static checks of `paths`; a list of `file: problem` lines."""
    repo_url = read_repo_url(readme)
    with open(readme, encoding="utf-8") as f:
        readme_text = f.read()
    problems = []
    for path in paths:
        file_name = os.path.basename(path)
        nb = read_notebook(path)
        for problem in [*check_notebook(nb, file_name, repo_url),
                        *check_readme_row(nb, file_name, repo_url,
                                          readme_text)]:
            problems.append(f"notebooks/{file_name}: {problem}")
    return problems


# -- running ---------------------------------------------------------------
def _use_this_interpreter():
    """Makes the `python3` kernel the one of this environment: its
    kernelspec runs `python`, which jupyter_client maps to this
    interpreter, but a kernelspec in the user's Jupyter directory would
    win over it otherwise."""
    share = os.path.join(sys.prefix, "share", "jupyter")
    if os.path.isfile(os.path.join(share, "kernels", KERNEL, "kernel.json")):
        paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(
            os.pathsep) if p and p != share]
        os.environ["JUPYTER_PATH"] = os.pathsep.join([share, *paths])


def run_parameters(nb, file_name, backend):
    """The parameters a run passes: the CI ones, and the backend when the
    notebook has a `KERAS_BACKEND` parameter."""
    parameters = ci_parameters(nb)
    if "KERAS_BACKEND" in parameter_names(nb):
        parameters["KERAS_BACKEND"] = backend
    elif backend != "tensorflow":
        raise NotebookError(
            f"notebooks/{file_name} has no KERAS_BACKEND parameter; it runs "
            f"on TensorFlow only, not {backend}")
    return parameters


def _original_cell_number(nb, error):
    """The committed notebook's number of the cell that raised (papermill
    counts its injected-parameters cell)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell_source(cell) == error.source:
            return index
    return error.cell_index


def execute(path, backend="tensorflow", timeout=DEFAULT_TIMEOUT_S):
    """Executes notebook `path` in a temporary copy of `notebooks/` with its
    CI parameters. Returns `(executed notebook, parameters, duration_s,
    temporary directory)`; the caller removes the directory. Raises
    NotebookError with a one-line message when a cell raises, the kernel
    dies or the run takes longer than `timeout` seconds."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    file_name = os.path.basename(path)
    nb = read_notebook(path)
    parameters = run_parameters(nb, file_name, backend)
    scratch = tempfile.mkdtemp(prefix="keras_albert_notebooks_")
    workdir = os.path.join(scratch, "notebooks")
    shutil.copytree(NOTEBOOKS_DIR, workdir, ignore=shutil.ignore_patterns(
        "__pycache__", ".ipynb_checkpoints"))
    # A notebook from elsewhere runs beside the same data.
    shutil.copyfile(path, os.path.join(workdir, file_name))
    _use_this_interpreter()
    start = time.perf_counter()
    try:
        executed = papermill.execute_notebook(
            os.path.join(workdir, file_name), None, parameters=parameters,
            kernel_name=KERNEL, cwd=workdir, progress_bar=False,
            execution_timeout=timeout)
    except PapermillExecutionError as e:
        shutil.rmtree(scratch, ignore_errors=True)
        evalue = " ".join(str(e.evalue).split())
        raise NotebookError(
            f"notebooks/{file_name} (backend {backend}): cell "
            f"{_original_cell_number(nb, e)} raised {e.ename}: {evalue}"
        ) from None
    except Exception as e:  # noqa: BLE001 - kernel death, cell timeout
        shutil.rmtree(scratch, ignore_errors=True)
        message = " ".join(str(e).split())[:300]
        raise NotebookError(
            f"notebooks/{file_name} (backend {backend}): the run failed: "
            f"{type(e).__name__}: {message}") from None
    duration = time.perf_counter() - start
    if duration > timeout:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(
            f"notebooks/{file_name} (backend {backend}): took {duration:.0f} "
            f"s, over its {timeout} s limit")
    return executed, parameters, duration, scratch


def path_replacements(scratch):
    """(absolute path, neutral text) pairs for the outputs, longest first:
    the run's working directory becomes relative, the rest named."""
    workdir = os.path.join(scratch, "notebooks")
    pairs = []
    for directory in {workdir, os.path.realpath(workdir)}:
        pairs += [(directory + os.sep, ""), (directory, ".")]
    for directory in {scratch, os.path.realpath(scratch)}:
        pairs.append((directory, "<tmp>"))
    site = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    for directory in site | {os.path.realpath(d) for d in site}:
        pairs.append((directory, "<site-packages>"))
    for directory in {sys.prefix, os.path.realpath(sys.prefix)}:
        pairs.append((directory, "<python>"))
    for directory in {REPO_ROOT, os.path.realpath(REPO_ROOT)}:
        pairs.append((directory, "<keras-albert>"))
    home = os.path.expanduser("~")
    if home not in ("", os.sep):
        pairs.append((home, "~"))
    pairs.append((tempfile.gettempdir(), "<tmp>"))
    return sorted(set(pairs), key=lambda pair: -len(pair[0]))


def _replace_paths(text, replacements):
    for path, neutral in replacements:
        text = text.replace(path, neutral)
    return text


def clean(executed, committed, parameters, backend, duration, replacements):
    """The notebook to commit from an executed one: no injected cell, no
    papermill metadata, neutral paths, stamped cells, `last_run` set."""
    nb = copy.deepcopy(executed)
    nb.cells = [cell for cell in nb.cells if "injected-parameters"
                not in cell.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    # The kernel's language_info (its exact Python version) is run noise.
    if "language_info" in committed.metadata:
        nb.metadata["language_info"] = committed.metadata["language_info"]
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if not cell.metadata.get("tags", True):
            del cell.metadata["tags"]
        if cell.cell_type != "code":
            continue
        cell.metadata.setdefault("keras_albert", {})["source_sha256"] = (
            source_sha256(cell_source(cell)))
        cell.outputs = _merged_streams(cell.outputs)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _replace_paths("".join(output["text"]),
                                                replacements)
            if "traceback" in output:
                output["traceback"] = [_replace_paths(line, replacements)
                                       for line in output["traceback"]]
            for mime, value in output.get("data", {}).items():
                if TEXT_MIME.match(mime) and isinstance(value, (str, list)):
                    output["data"][mime] = _replace_paths(
                        "".join(value), replacements)
    nb.metadata.setdefault("keras_albert", {})["last_run"] = {
        "backend": backend,
        "parameters": parameters,
        "duration_s": round(duration, 1),
        "keras_albert": _version("keras-albert"),
        "keras": _version("keras"),
    }
    return nb


def _merged_streams(outputs):
    """Outputs with TensorFlow's C++ log lines dropped from stderr and
    consecutive writes to one stream joined (as a notebook front end shows
    them)."""
    merged = []
    for output in outputs:
        if output.get("output_type") == "stream":
            text = "".join(output["text"])
            if output.get("name") == "stderr":
                text = ABSL_LOG_LINE.sub("", text)
            if not text:
                continue
            previous = merged[-1] if merged else None
            if (previous is not None
                    and previous.get("output_type") == "stream"
                    and previous.get("name") == output.get("name")):
                previous["text"] = "".join(previous["text"]) + text
                continue
            output["text"] = text
        merged.append(output)
    return merged


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_atomically(path, text):
    """Writes `text` to `path` through a temporary sibling and
    `os.replace`, so `path` holds the old or the new text, never half."""
    directory, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def write_notebook(nb, path):
    import nbformat

    _write_atomically(path, nbformat.writes(nb) + "\n")


def update_readme_duration(nb, file_name, readme=README):
    """Sets the last column of `file_name`'s README table row to the
    notebook's last-run duration. Returns False when there is no row."""
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"| [{file_name}]("):
            cells = line.rstrip().rstrip("|").rsplit("|", 1)
            lines[i] = f"{cells[0]}| {readme_duration(nb)} |"
            _write_atomically(readme, "\n".join(lines))
            return True
    return False


def run(path, backend="tensorflow", write=False, timeout=DEFAULT_TIMEOUT_S):
    """Runs one notebook (see `execute`); with `write`, stamps it and writes
    it over `path` (see `clean`). Returns the duration in seconds."""
    executed, parameters, duration, scratch = execute(path, backend, timeout)
    try:
        if write:
            file_name = os.path.basename(path)
            nb = clean(executed, read_notebook(path), parameters, backend,
                       duration, path_replacements(scratch))
            leftover = _check_paths(nb)
            if leftover:
                raise NotebookError(f"notebooks/{file_name}: not written, "
                                    f"{leftover[0]}")
            write_notebook(nb, path)
            update_readme_duration(nb, file_name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return duration


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="execute notebooks with their CI parameters")
    run_parser.add_argument("names", nargs="+", metavar="NAME",
                            help="notebook names (e.g. 01_quickstart) or all")
    run_parser.add_argument("--backend", default="tensorflow",
                            choices=("tensorflow", "jax", "torch"))
    run_parser.add_argument(
        "--write", action="store_true",
        help="write the executed, stamped notebook over the committed one")
    run_parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S,
                            metavar="S", help="seconds per notebook")
    check_parser = commands.add_parser(
        "check", help="static checks of the committed notebooks")
    check_parser.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        paths = notebook_paths(args.names)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "check":
        problems = check(paths)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for path in paths:
        try:
            duration = run(path, args.backend, args.write, args.timeout)
        except NotebookError as e:
            print(f"FAILED {e}", file=sys.stderr)
            return 1
        print(f"notebooks/{os.path.basename(path)}: ran on {args.backend} in "
              f"{duration:.1f} s" + (", written" if args.write else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
