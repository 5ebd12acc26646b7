"""A served SavedModel survives bad requests.

One fresh process (TensorFlow and tensorflow-text only, no keras_albert)
loads an exported classifier and is sent random bad requests: text pairs
of unequal sizes (once a SIGSEGV or `std::length_error` abort), empty
batches, 1 MB strings, invalid UTF-8, out-of-range and over-long token
ids, unequal input shapes, wrong dtypes. Each must get an
`InvalidArgumentError` (or, where the Python client refuses the call, a
client-side error) or a correct answer; then a good request is answered
like Keras answers it, and the process exits 0.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import TINY_CONFIG

pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="SavedModel export runs from the TensorFlow or JAX backend")

SEQUENCE_LENGTH = 16
SERVER = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the SentencePiece ops

model = tf.saved_model.load(sys.argv[1])
requests = json.load(open(sys.argv[2]))


def decode(value):
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "repeat" in value:
        return (value["repeat"] * value["times"]).encode("utf-8")
    return value.encode("utf-8")


results = []
for request in requests:
    inputs = {}
    for name, value in request["inputs"].items():
        if request["signature"] == "serve_token_ids":
            inputs[name] = tf.constant(np.asarray(value, request["dtype"])
                                       .reshape(request["shapes"][name]))
        else:
            inputs[name] = tf.constant([decode(v) for v in value],
                                       dtype=tf.string, shape=[len(value)])
    try:
        out = model.signatures[request["signature"]](**inputs)
        results.append({"outcome": "answer",
                        "logits": out["logits"].numpy().tolist()})
    except tf.errors.InvalidArgumentError as e:
        results.append({"outcome": "InvalidArgumentError",
                        "message": e.message})
    except (TypeError, ValueError) as e:  # the Python client refused
        results.append({"outcome": "client " + type(e).__name__,
                        "message": str(e)})
assert "keras_albert" not in sys.modules
json.dump(results, open(sys.argv[3], "w"))
"""


@pytest.fixture(scope="module")
def served(spm_path, tmp_path_factory):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer
    from keras_albert.export import export_saved_model

    keras.utils.set_random_seed(11)
    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=SEQUENCE_LENGTH)
    model = AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=2,
                             preprocessor=preprocessor, dropout=0.0)
    path = tmp_path_factory.mktemp("serving_fuzz") / "classifier" / "1"
    export_saved_model(model, path)
    return model, str(path)


def _text(value):
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"]).decode("utf-8", "replace")
    if isinstance(value, dict):
        return value["repeat"] * value["times"]
    return value


def _texts(rng, count):
    pool = ["a fine film", "", " ", "Café naïve 👍🏽", "\x00\x07 tab\tnew\nline",
            "\u202e right-to-left \u2028", "[CLS] [SEP] <pad>", "ﬁ İ ß",
            "the quick brown fox " * 20]
    return [pool[i] for i in rng.integers(0, len(pool), count)]


def _requests(rng):
    """`[(request, expectation)]`: expectation "error" (with words), or
    "answer" (with the texts or ids Keras must match), or "either"."""
    requests = []

    def text(signature, expect, words=None, **inputs):
        requests.append(({"signature": signature, "inputs": inputs},
                         (expect, words)))

    def ids(expect, words=None, dtype="int32", **arrays):
        requests.append(({
            "signature": "serve_token_ids", "dtype": dtype,
            "inputs": {k: np.asarray(v).ravel().tolist()
                       for k, v in arrays.items()},
            "shapes": {k: list(np.shape(v)) for k, v in arrays.items()},
        }, (expect, words)))

    # Unequal text pairs: once a crash or garbage.
    for a, b in ((3, 1), (1, 3), (2, 1), (0, 2), (2, 0), (5, 4)):
        text("serve_text_pair", "error", "as many first texts",
             text_a=_texts(rng, a), text_b=_texts(rng, b))
    # Empty batches: no rows, or a clear error.
    text("serving_default", "either", text=[])
    text("serve_text_pair", "either", text_a=[], text_b=[])
    # Huge strings, invalid UTF-8, odd text: answered like Keras.
    huge = {"repeat": "a fine film, ", "times": 80_000}  # about 1 MB
    text("serving_default", "answer", text=[huge])
    text("serving_default", "answer", text=["short", huge, ""])
    text("serve_text_pair", "answer", text_a=[huge], text_b=[huge])
    text("serving_default", "answer",
         text=[{"hex": "fffe"}, {"hex": "6f6b20c3"}, {"hex": "c0af"},
               {"hex": "eda080"}, {"hex": ""}])
    for _ in range(4):
        count = int(rng.integers(1, 4))
        text("serve_text_pair", "answer", text_a=_texts(rng, count),
             text_b=_texts(rng, count))
    # Token ids: out of range, too long, empty rows, unequal shapes.
    def batch(shape, value=7, segment=0):
        return {"token_ids": np.full(shape, value),
                "segment_ids": np.full(shape, segment),
                "padding_mask": np.ones(shape, "int64")}

    ids("error", "Token id -1 is out of range", **batch((2, 6), -1))
    ids("error", "Token id 160 is out of range", **batch((2, 6), 160))
    ids("error", "Token id 2147483647 is out of range",
        **batch((1, 3), 2**31 - 1))
    ids("error", "Segment id 2 is out of range", **batch((2, 6), segment=2))
    ids("error", "Sequence length 65 is longer", **batch((1, 65)))
    ids("error", "Sequence length 500 is longer", **batch((2, 500)))
    ids("error", "Sequence length 0", **batch((2, 0)))
    ids("either", **batch((0, 6)))
    ids("error", "same shape", **dict(batch((2, 6)),
                                      padding_mask=np.ones((2, 5))))
    ids("error", "same shape", **dict(batch((2, 6)),
                                      segment_ids=np.zeros((3, 6))))
    ids("client", "int32", dtype="int64", **batch((2, 6)))
    ids("client", "int32", dtype="float32", **batch((2, 6)))
    # Random token requests: an error exactly when something is out of
    # range, else Keras' answer.
    for _ in range(8):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 70)))
        token_ids = rng.integers(0, 160, shape)
        segment_ids = rng.integers(0, 2, shape)
        if rng.random() < 0.5:
            token_ids.flat[rng.integers(0, token_ids.size)] = int(
                rng.choice([-5, -1, 160, 10_000]))
        bad = (token_ids < 0).any() or (token_ids >= 160).any() or (
            shape[1] > 64)
        ids("error" if bad else "answer", None,
            token_ids=token_ids, segment_ids=segment_ids,
            padding_mask=np.ones(shape, "int64"))
    # Last: a good request.
    text("serving_default", "answer", text=["a fine film", "a dull plot"])
    return requests


def _keras_logits(model, request):
    inputs = request["inputs"]
    if request["signature"] == "serve_token_ids":
        x = {k: np.asarray(v, "int32").reshape(request["shapes"][k])
             for k, v in inputs.items()}
    elif request["signature"] == "serve_text_pair":
        x = model.preprocessor.pack(
            ([_text(v) for v in inputs["text_a"]],
             [_text(v) for v in inputs["text_b"]]))
    else:
        x = model.preprocessor.pack([_text(v) for v in inputs["text"]])
    return keras.ops.convert_to_numpy(model(x))


def test_server_survives_bad_requests(served, tmp_path):
    model, path = served
    rng = np.random.default_rng(20240611)
    cases = _requests(rng)
    requests_file = tmp_path / "requests.json"
    requests_file.write_text(json.dumps([request for request, _ in cases]))
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    results_file = tmp_path / "results.json"
    process = subprocess.run(
        [sys.executable, str(script), path, str(requests_file),
         str(results_file)],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=str(tmp_path),
        capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    results = json.loads(results_file.read_text())
    assert len(results) == len(cases)
    for (request, (expect, words)), result in zip(cases, results):
        where = f"{request['signature']} {expect}: {result}"[:500]
        if expect == "error":
            assert result["outcome"] == "InvalidArgumentError", where
            if words:
                assert words in result["message"], where
        elif expect == "client":
            # Refused by the signature (InvalidArgumentError) or by the
            # Python client before the call.
            assert result["outcome"] == "InvalidArgumentError" or (
                result["outcome"].startswith("client")), where
            if words:
                assert words in result["message"], where
        elif expect == "either" and result["outcome"] != "answer":
            assert result["outcome"] == "InvalidArgumentError", where
        else:
            assert result["outcome"] == "answer", where
            expected = _keras_logits(model, request)
            np.testing.assert_allclose(
                np.asarray(result["logits"]).reshape(expected.shape),
                expected, atol=1e-4, err_msg=where)
