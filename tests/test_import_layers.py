"""keras_albert's packages import only lower layers.

Ranks (a module may import strictly lower ranks and its own package;
packages of the same rank may not import each other; imports inside
functions count too; `keras_albert/__init__.py`, the package face, is
exempt):

    0 utils/, version.py
    1 layers/
    2 preprocessing/, metrics/, datasets/, optimizers/
    3 presets/
    4 models/
    5 tasks/
    6 finetuning/, pretraining/, export/
    7 quickstart.py
    8 cli.py

A bare `import keras_albert` (or `from keras_albert import AlbertBackbone`)
reaches the face, which ranks as the highest package it imports.

Run as a script to print the violations of a tree:
`python tests/test_import_layers.py [path/to/keras_albert]`.
"""

import ast
import pathlib
import sys

RANKS = {
    "utils": 0, "version": 0,
    "layers": 1,
    "preprocessing": 2, "metrics": 2, "datasets": 2, "optimizers": 2,
    "presets": 3,
    "models": 4,
    "tasks": 5,
    "finetuning": 6, "pretraining": 6, "export": 6,
    "quickstart": 7,
    "cli": 8,
}
PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1] / "keras_albert"


def _module_parts(path, root):
    """`("keras_albert", "presets", "loader")` for `.../presets/loader.py`;
    a package's `__init__.py` is the package itself."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _is_module(root, dotted):
    """Whether `dotted` (e.g. `keras_albert.tasks`) is a module or package
    of the tree at `root`."""
    path = root.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(node, module_parts, is_package, root):
    """The dotted modules an `Import`/`ImportFrom` node reaches, relative
    imports resolved. `from keras_albert import tasks` gives
    `keras_albert.tasks`; a name that is no module (e.g. `from keras_albert
    import AlbertBackbone`) gives the module it comes from."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        package = list(module_parts if is_package else module_parts[:-1])
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module
    modules = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        modules.append(candidate if _is_module(root, candidate) else base)
    return modules


def _imports_of(path, root):
    """`(lineno, module)` of every import in `path`, nested ones too."""
    parts = _module_parts(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        for module in imported_modules(node, parts, is_package, root):
            yield node.lineno, module


def _face_rank(root):
    """The rank of the package face: the highest package its
    `__init__.py` imports."""
    init = root / "__init__.py"
    ranks = [0]
    if init.is_file():
        for _, module in _imports_of(init, root):
            parts = module.split(".")
            if parts[0] == root.name and len(parts) > 1:
                ranks.append(RANKS.get(parts[1], max(RANKS.values())))
    return max(ranks)


def layer_violations(root=PACKAGE_ROOT):
    """Every import in the tree at `root` against the layering, as
    `file:line: package(rank) imports module(rank)` lines."""
    root = pathlib.Path(root)
    face_rank = _face_rank(root)
    violations = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "__init__.py":
            continue
        relative = path.relative_to(root.parent).as_posix()
        own = _module_parts(path, root)[1]
        own_rank = RANKS.get(own)
        if own_rank is None:
            violations.append(
                f"{relative}:1: {own}(?) is not in the layering; give it "
                "a rank in RANKS"
            )
            continue
        for lineno, module in _imports_of(path, root):
            parts = module.split(".")
            if parts[0] != root.name:
                continue
            if len(parts) == 1:
                rank = face_rank
            elif parts[1] == own:
                continue
            else:
                rank = RANKS.get(parts[1])
            if rank is None or rank >= own_rank:
                shown = "?" if rank is None else rank
                violations.append(
                    f"{relative}:{lineno}: {own}({own_rank}) imports "
                    f"{module}({shown})"
                )
    return violations


def test_keras_albert_follows_the_layering():
    violations = layer_violations()
    assert not violations, (
        "Imports against the layering (see this file's docstring):\n"
        + "\n".join(violations)
    )


def _write_tree(root, files):
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / "keras_albert"


def test_checker_reports_each_kind_of_violation(tmp_path):
    root = _write_tree(tmp_path, {
        # The face imports up to tasks: rank 5.
        "keras_albert/__init__.py": (
            "from keras_albert import layers\n"
            "from keras_albert.tasks import Task\n"
        ),
        "keras_albert/utils/__init__.py": "",
        "keras_albert/utils/a.py": (
            "import os\n"
            "from keras_albert.utils import b\n"  # own package: fine
        ),
        "keras_albert/utils/b.py": "",
        "keras_albert/layers/__init__.py": "",
        "keras_albert/layers/x.py": (
            "from keras_albert.utils import a\n"  # lower: fine
            "def f():\n"
            "    from keras_albert.models import m\n"  # lazy, upward
        ),
        "keras_albert/presets/__init__.py": "",
        "keras_albert/presets/p.py": "from keras_albert import tasks\n",
        "keras_albert/models/__init__.py": "",
        "keras_albert/models/m.py": (
            "from ..presets import p\n"  # relative, lower: fine
            "from ..tasks import t\n"  # relative, upward
            "import keras_albert\n"  # the face (5) from rank 4
        ),
        "keras_albert/tasks/__init__.py": "",
        "keras_albert/tasks/t.py": "from . import t\n",
        "keras_albert/finetuning/__init__.py": "",
        "keras_albert/finetuning/f.py": (
            "import keras_albert\n"  # the face (5) from rank 6: fine
            "from keras_albert import Task\n"  # a name of the face: fine
            "from keras_albert.pretraining import schedules\n"  # sibling
        ),
        "keras_albert/pretraining/__init__.py": "",
        "keras_albert/pretraining/schedules.py": "",
        "keras_albert/cli.py": "from keras_albert import quickstart\n",
        "keras_albert/quickstart.py": "import keras_albert.cli\n",
        "keras_albert/extras/e.py": "",
    })
    assert layer_violations(root) == [
        "keras_albert/extras/e.py:1: extras(?) is not in the layering; "
        "give it a rank in RANKS",
        "keras_albert/finetuning/f.py:3: finetuning(6) imports "
        "keras_albert.pretraining.schedules(6)",
        "keras_albert/layers/x.py:3: layers(1) imports "
        "keras_albert.models.m(4)",
        "keras_albert/models/m.py:2: models(4) imports "
        "keras_albert.tasks.t(5)",
        "keras_albert/models/m.py:3: models(4) imports keras_albert(5)",
        "keras_albert/presets/p.py:1: presets(3) imports "
        "keras_albert.tasks(5)",
        "keras_albert/quickstart.py:1: quickstart(7) imports "
        "keras_albert.cli(8)",
    ]


def test_checker_resolves_from_package_import_forms(tmp_path):
    root = _write_tree(tmp_path, {
        "keras_albert/__init__.py": "",
        "keras_albert/tasks/__init__.py": "",
        "keras_albert/tasks/t.py": "",
        "keras_albert/layers/__init__.py": "",
        "keras_albert/layers/y.py": (
            "from keras_albert import tasks as renamed\n"
            "import keras_albert.tasks.t as t\n"
            "from keras_albert.tasks.t import name\n"
        ),
    })
    assert layer_violations(root) == [
        f"keras_albert/layers/y.py:{line}: layers(1) imports {module}(5)"
        for line, module in ((1, "keras_albert.tasks"),
                             (2, "keras_albert.tasks.t"),
                             (3, "keras_albert.tasks.t"))
    ]


if __name__ == "__main__":
    print("\n".join(layer_violations(
        sys.argv[1] if len(sys.argv) > 1 else PACKAGE_ROOT)))
