"""keras-albert: ALBERT for Keras 3 on TensorFlow, JAX and PyTorch.

`import keras_albert` registers every model, layer and preprocessor with
Keras, so `keras.saving.load_model` finds them. Inside the `keras-albert`
command the names are imported on first use instead (see
`utils/lazy_exports`): `keras-albert --help` then loads no Keras or
TensorFlow, and each subcommand imports what it needs.
"""

from typing import TYPE_CHECKING

from keras_albert.utils.lazy_exports import lazy_exports
from keras_albert.version import __version__

if TYPE_CHECKING:  # what type checkers, IDEs and the layering test read
    from keras_albert import layers
    from keras_albert.models import AlbertBackbone
    from keras_albert.preprocessing import AlbertPreprocessor
    from keras_albert.preprocessing import AlbertTokenizer
    from keras_albert.preprocessing import train_sentencepiece
    from keras_albert.presets import PresetError
    from keras_albert.presets import list_presets
    from keras_albert.tasks import AlbertClassifier
    from keras_albert.tasks import AlbertEarlyExitClassifier
    from keras_albert.tasks import AlbertMaskedLM
    from keras_albert.tasks import AlbertMultipleChoice
    from keras_albert.tasks import AlbertPretrainer
    from keras_albert.tasks import AlbertQuestionAnswerer
    from keras_albert.tasks import AlbertTokenClassifier

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "AlbertBackbone": "keras_albert.models",
        "AlbertClassifier": "keras_albert.tasks",
        "AlbertEarlyExitClassifier": "keras_albert.tasks",
        "AlbertMaskedLM": "keras_albert.tasks",
        "AlbertMultipleChoice": "keras_albert.tasks",
        "AlbertPreprocessor": "keras_albert.preprocessing",
        "AlbertPretrainer": "keras_albert.tasks",
        "AlbertQuestionAnswerer": "keras_albert.tasks",
        "AlbertTokenClassifier": "keras_albert.tasks",
        "AlbertTokenizer": "keras_albert.preprocessing",
        "PresetError": "keras_albert.presets",
        "list_presets": "keras_albert.presets",
        "train_sentencepiece": "keras_albert.preprocessing",
    },
    # `keras_albert.tasks`, ... stay reachable as attributes, as when this
    # face imported them.
    submodules=("datasets", "export", "finetuning", "layers", "metrics",
                "models", "preprocessing", "presets", "pretraining", "tasks",
                "utils"),
)
__all__ = sorted([*__all__, "__version__", "layers"])


def _in_the_command():
    """True in the `keras-albert` console script or `python -m
    keras_albert.cli` (while Python imports a `-m` target's packages,
    `sys.argv[0]` is still "-m")."""
    import os
    import sys

    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first) in (
        "keras-albert", "keras-albert.exe")


if not _in_the_command():
    # Defines (and so registers with Keras) every serializable class.
    import keras_albert.tasks  # noqa: E402, F401
