"""Runs an exported SavedModel in a process that never imports keras_albert."""

import json
import os
import subprocess
import sys

import numpy as np

FRESH = r"""
import sys, json, numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the SentencePiece ops
m = tf.saved_model.load(sys.argv[1])
d = json.load(open(sys.argv[2]))
out = {}
def run(name, **kw):
    res = m.signatures[name](**kw)
    for k, v in res.items():
        out[name + "/" + k] = v.numpy()
run("serving_default", text=tf.constant(d["texts"]))
run("serve_text_pair", text_a=tf.constant(d["a"]), text_b=tf.constant(d["b"]))
run("serve_token_ids", **{k: tf.constant(v, tf.int32)
                          for k, v in d["ids"].items()})
odd = [bytes.fromhex(h) for h in d["odd"]]
for k, v in m.signatures["serving_default"](text=tf.constant(odd)).items():
    out["odd/" + k] = v.numpy()
assert "keras_albert" not in sys.modules
np.savez(sys.argv[3], **out)
"""


def run_in_fresh_process(saved_dir, preprocessor, texts, pair, odd, tmp_path):
    """Calls every signature of `saved_dir` with `tf.saved_model.load` in a
    new Python process; returns `{"<signature>/<output>": array}`."""
    a, b = pair
    ids = {k: v.numpy().tolist() for k, v in preprocessor.pack(texts).items()}
    inputs = tmp_path / "in.json"
    inputs.write_text(json.dumps({"texts": list(texts), "a": list(a),
                                  "b": list(b), "ids": ids,
                                  "odd": [o.hex() for o in odd]}))
    script = tmp_path / "fresh.py"
    script.write_text(FRESH)
    result = tmp_path / "out.npz"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, str(script), str(saved_dir), str(inputs),
                    str(result)], check=True, env=env, cwd=str(tmp_path),
                   timeout=120)
    return dict(np.load(result))
