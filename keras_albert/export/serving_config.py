"""TF Serving's `models.config` for a directory of exported SavedModels.

`keras-albert export PRESET BASE --model-name NAME --version N` writes
`BASE/NAME/N/` and lists NAME in `BASE/models.config` (TF Serving's
`ModelServerConfig` in protobuf text format), keeping the models already
listed there, so one server started on BASE serves every model exported
into it:

```
model_config_list {
  config {
    name: "albert_classifier"
    base_path: "/models/albert_classifier"
    model_platform: "tensorflow"
  }
}
```
Base paths are where the server sees BASE: `/models` in the
`tensorflow/serving` Docker image (`-v "$PWD/BASE:/models"`).

Example:
```python
from keras_albert.export.serving_config import add_model

add_model("savedmodels", "albert_classifier")  # -> savedmodels/models.config
```
"""

import json
import os
import re
import tempfile

CONFIG_FILENAME = "models.config"
# Where the tensorflow/serving image looks for models.
SERVER_MODEL_ROOT = "/models"

_HEADER = (
    "# TF Serving model config, written by `keras-albert export ... "
    "--model-name NAME`:\n"
    "# tensorflow_model_server --model_config_file=/models/models.config\n"
)
_LIST_START = re.compile(r"\bmodel_config_list\s*\{")
_CONFIG_START = re.compile(r"\bconfig\s*\{")
_NAME = re.compile(r"""\bname\s*:\s*(?:"([^"]*)"|'([^']*)')""")


def _closing_brace(text, start):
    """The index of the `}` that closes the block opened just before
    `start`; braces inside quoted strings and `#` comments do not count."""
    depth = 1
    position = start
    while position < len(text):
        char = text[position]
        if char in "\"'":
            position += 1
            while position < len(text) and text[position] != char:
                position += 2 if text[position] == "\\" else 1
        elif char == "#":
            line_end = text.find("\n", position)
            position = len(text) if line_end < 0 else line_end
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    raise ValueError("unbalanced braces")


def read_model_entries(text):
    """`(preamble, [(name, config_block_text), ...])` of a models.config.

    Args:
        text: str. The file's contents.

    Returns:
        The text before `model_config_list` (comments) and each
        `config { ... }` block with the model name it declares.

    Raises:
        ValueError: when `text` has no `model_config_list { ... }`.
    """
    match = _LIST_START.search(text)
    if match is None:
        raise ValueError("no model_config_list { ... } in it")
    end = _closing_brace(text, match.end())
    body = text[match.end():end]
    entries = []
    position = 0
    while True:
        config = _CONFIG_START.search(body, position)
        if config is None:
            break
        close = _closing_brace(body, config.end())
        block = body[config.start():close + 1]
        name = _NAME.search(block)
        entries.append((
            (name.group(1) if name.group(1) is not None else name.group(2))
            if name else None, block))
        position = close + 1
    return text[:match.start()], entries


def _config_block(model_name):
    return (
        "config {\n"
        f"    name: \"{model_name}\"\n"
        f"    base_path: \"{SERVER_MODEL_ROOT}/{model_name}\"\n"
        "    model_platform: \"tensorflow\"\n"
        "  }"
    )


def add_model(base_dir, model_name):
    """Creates or updates `base_dir/models.config` to list `model_name`.

    Models already listed keep their entries as written, in order; an
    entry for `model_name` is replaced, where it stands, by the standard
    one. The file is written to
    a temporary sibling and moved into place, so a server reading it never
    sees half a file.

    Args:
        base_dir: the TF Serving base directory (holds `model_name/N/`).
        model_name: str. The model's name (and folder) under `base_dir`.

    Returns:
        `(path, names)`: the config's path and every model it lists.

    Raises:
        ValueError: when an existing file is not a model config list
            (it is left as it is).
    """
    path = os.path.join(os.fspath(base_dir), CONFIG_FILENAME)
    preamble, entries = _HEADER, []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            existing = f.read()
        try:
            preamble, entries = read_model_entries(existing)
        except ValueError as e:
            raise ValueError(
                f"{path} is not a TF Serving model config ({e}); move it "
                "away or fix it, then export again."
            ) from None
    entry = (model_name, _config_block(model_name))
    names = [name for name, _ in entries]
    if model_name in names:  # replaced where it stands
        entries[names.index(model_name)] = entry
        entries = [e for i, e in enumerate(entries)
                   if e[0] != model_name or i == names.index(model_name)]
    else:
        entries.append(entry)
    text = preamble + "model_config_list {\n" + "".join(
        f"  {block}\n" for _, block in entries) + "}\n"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{CONFIG_FILENAME}.", dir=os.path.dirname(
            os.path.abspath(path)))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path, [name for name, _ in entries]


def serving_commands(base_dir, model_name, text_signatures,
                     num_choices=None):
    """The `docker run` line that serves `base_dir` with its models.config
    and a `curl` line that asks `model_name` for a prediction.

    Args:
        base_dir: the TF Serving base directory.
        model_name: str. The model to query.
        text_signatures: bool. Whether `serving_default` takes `text`
            (else token ids).
        num_choices: int or None. Options per example of a
            multiple-choice model (its token ids are 3-D).

    Returns:
        `[docker_line, curl_line]`.
    """
    mount = os.path.abspath(os.fspath(base_dir))
    docker = (
        f"docker run --rm -p 8501:8501 -v \"{mount}:{SERVER_MODEL_ROOT}\" "
        "tensorflow/serving "
        f"--model_config_file={SERVER_MODEL_ROOT}/{CONFIG_FILENAME}"
    )
    if text_signatures:
        body = ('{"signature_name": "serving_default", '
                '"instances": [{"text": "a fine film"}]}')
    else:
        rows = {"token_ids": [2, 1, 3], "segment_ids": [0, 0, 0],
                "padding_mask": [1, 1, 1]}
        inputs = {name: [[row] * num_choices if num_choices else row]
                  for name, row in rows.items()}
        body = json.dumps({"signature_name": "serving_default",
                           "inputs": inputs})
    curl = (f"curl -d '{body}' "
            f"http://localhost:8501/v1/models/{model_name}:predict")
    return [docker, curl]
