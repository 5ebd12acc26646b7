"""Runs a fresh export the way a server would: in a new Python process.

`keras-albert export --check` calls `check_export(path)` after writing: a
new interpreter that never imports keras_albert loads the SavedModel
(`tf.saved_model.load`, after `import tensorflow_text` when installed, as
the exported string signatures need its ops) or the `.tflite` file
(LiteRT, or TensorFlow's interpreter) and calls every signature on one
example: "a fine film" for text inputs, `[CLS] <unk> [SEP]` for token
ids. Missing ops, unloadable files and non-finite outputs fail here
instead of on the server.

Example:
```python
from keras_albert.export.export_check import check_export

check_export("savedmodels/albert_classifier/1")
# {"serve_text_pair": {"labels": [1], ...}, "serving_default": {...}, ...}
```
"""

import json
import os
import subprocess
import sys

# Token-id inputs of every exported signature, one example row each.
_EXAMPLE_ROW = """
ROWS = {"token_ids": [2, 1, 3], "segment_ids": [0, 0, 0],
        "padding_mask": [1, 1, 1]}

def example(name, shape, dtype):
    # (batch, ..., length): 1 for unknown leading dims, 3 tokens.
    leading = [1 if d is None or d < 0 else int(d) for d in shape[:-1]]
    row = ROWS.get(name, [0, 0, 0])
    return np.broadcast_to(np.asarray(row, dtype), leading + [3]).copy()

def summary(outputs):
    result = {}
    for key, value in outputs.items():
        value = np.asarray(value)
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise SystemExit(f"{key}: non-finite values")
        result[key] = list(value.shape)
    return result
"""

_SAVED_MODEL_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
try:
    import tensorflow_text  # noqa: F401  registers the SentencePiece ops
except ImportError:
    pass
""" + _EXAMPLE_ROW + """
loaded = tf.saved_model.load(sys.argv[1])
report = {}
for name in sorted(loaded.signatures):
    function = loaded.signatures[name]
    _, specs = function.structured_input_signature
    feed = {}
    for key, spec in specs.items():
        if spec.dtype == tf.string:
            feed[key] = tf.constant(["a fine film"])
        else:
            feed[key] = tf.constant(example(
                key, spec.shape.as_list(), spec.dtype.as_numpy_dtype))
    report[name] = summary({k: v.numpy() for k, v in function(**feed).items()})
assert "keras_albert" not in sys.modules
print(json.dumps(report))
"""

_TFLITE_SCRIPT = """
import json, sys
import numpy as np
path, select_tf_ops = sys.argv[1], sys.argv[2] == "1"
try:
    if select_tf_ops:
        raise ImportError  # LiteRT has no Flex delegate
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    import tensorflow as tf
    Interpreter = tf.lite.Interpreter
""" + _EXAMPLE_ROW + """
interpreter = Interpreter(model_path=path)
report = {}
for name in sorted(interpreter.get_signature_list()):
    runner = interpreter.get_signature_runner(name)
    feed = {key: example(key, list(detail["shape_signature"]),
                         detail["dtype"])
            for key, detail in runner.get_input_details().items()}
    report[name] = summary(runner(**feed))
assert "keras_albert" not in sys.modules
print(json.dumps(report))
"""


def check_export(path, timeout=600):
    """Loads the export at `path` in a new Python process and runs each of
    its signatures on an example.

    Args:
        path: a SavedModel directory or a `.tflite` file written by
            `export_saved_model` / `export_tflite`.
        timeout: seconds the process may take.

    Returns:
        `{signature: {output: shape}}`.

    Raises:
        RuntimeError: when the export cannot be loaded or run, with the
            process's last error line.
    """
    path = os.fspath(path)
    if path.endswith(".tflite"):
        from keras_albert.export.tflite_model import settings_path

        with open(settings_path(path), encoding="utf-8") as f:
            select_tf_ops = bool(json.load(f).get("select_tf_ops"))
        argv = [_TFLITE_SCRIPT, path, "1" if select_tf_ops else "0"]
    else:
        argv = [_SAVED_MODEL_SCRIPT, path]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = subprocess.run(
        [sys.executable, "-c", *argv], capture_output=True, text=True,
        env=env, timeout=timeout, cwd=os.path.dirname(os.path.abspath(path)))
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        cause = lines[-1] if lines else f"exit status {result.returncode}"
        raise RuntimeError(
            f"{path} did not load and run in a fresh Python process: "
            f"{cause}")
    return json.loads(result.stdout.strip().splitlines()[-1])
