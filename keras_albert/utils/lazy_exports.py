"""Package faces that import their modules on first use.

`import keras_albert` (and `keras_albert.finetuning`, `.pretraining`,
`.export`) must stay cheap: the `keras-albert` command imports its
subcommand modules through these packages to build `--help`, and importing
Keras there means importing TensorFlow (10+ s). A face lists its public
names with the module each comes from; the module is imported when a name
is first looked up (PEP 562), after which the name is an ordinary
attribute of the package.

Example:
```python
# keras_albert/finetuning/__init__.py
from keras_albert.utils.lazy_exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "finetuning_optimizer": "keras_albert.finetuning.finetuning_optimizer",
})
```
"""

import importlib
import sys


def lazy_exports(package, exports, submodules=()):
    """`(__getattr__, __dir__, __all__)` for the face of `package`.

    Args:
        package: the package's `__name__`.
        exports: dict `{public name: dotted module that defines it}`.
        submodules: names of subpackages or modules reachable as
            attributes (e.g. `keras_albert.layers`), imported on first
            use too.

    Returns:
        The module-level `__getattr__` and `__dir__` functions and the
        sorted `__all__` list (the names of `exports`) to assign in the
        package's `__init__.py`.
    """
    exports = dict(exports)
    submodules = tuple(submodules)

    def __getattr__(name):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        if name not in exports:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        # Later lookups find the attribute and skip this function.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports)
                      | set(submodules))

    return __getattr__, __dir__, sorted(exports)
