"""The file names presets of every format use, and the one way a preset
folder is written: completely or not at all.

`preset_directory(path)` is `utils.atomic_files.atomic_directory` with
`owned=PRESET_ENTRIES`: everything is written into a temporary sibling and
swapped into place, so a failure (an exception, a full disk) leaves the
previous preset loadable, and re-saving drops the files of the previous
preset the new one lacks (a backbone saved over a classifier leaves no
`task.json`), while files that are no preset's (a user's notes, other
folders) are kept.

Example:
```python
with preset_directory("my_preset") as tmp:
    write_the_preset_files(tmp)
```
"""

from keras_albert.utils.atomic_files import atomic_directory

PRESET_ENTRIES = (
    # keras-albert and KerasHub
    "config.json", "model.weights.h5", "task.json", "task.weights.h5",
    "preprocessor.json", "tokenizer.json", "metadata.json", "assets",
    # Hugging Face
    "model.safetensors", "model.safetensors.index.json",
    "model-*.safetensors", "pytorch_model.bin",
    "pytorch_model.bin.index.json", "pytorch_model-*.bin", "spiece.model",
    "tokenizer_config.json", "special_tokens_map.json",
    # Google's release layout
    "albert_config.json", "model.ckpt-*", "checkpoint", "30k-clean.model",
    "30k-clean.vocab",
    # `keras-albert finetune` writes its scores beside the model
    "finetune_metrics.json",
)


def preset_directory(path):
    """`atomic_directory(path, owned=PRESET_ENTRIES)`: a context manager
    yielding the temporary folder to write the preset into."""
    return atomic_directory(path, owned=PRESET_ENTRIES)
