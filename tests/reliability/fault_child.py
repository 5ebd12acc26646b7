"""Writes artifacts over existing ones with the file size limited, in its
own process (a failed write must raise, not crash the process):
`python -m tests.reliability.fault_child SPEC.json`.

SPEC holds `spm` (a SentencePiece model path) and `scenarios`, a list of
`{"kind", "target", "limit"}`; kind is `preset-<format>`, `saved_model`,
`tflite` or `checkpoint`. Each scenario runs with `RLIMIT_FSIZE` lowered
to `limit` bytes (writes past it fail with EFBIG, like a full disk) and
prints one line `RESULT <index> <error type or ok>`.
"""

import json
import os
import resource
import signal
import sys


def build_models(spm_path, seed):
    """A tiny classifier with a tokenizer (the same for every caller)."""
    import keras

    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer
    from tests.conftest import TINY_CONFIG

    keras.utils.set_random_seed(seed)
    preprocessor = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                                      sequence_length=16)
    return AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes=3,
                            preprocessor=preprocessor, dropout=0.0)


def checkpoint_model(seed):
    """A small compiled model with built optimizer state."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    return model


def write(kind, model, target):
    if kind.startswith("preset-"):
        model.save_to_preset(target, format=kind[len("preset-"):])
    elif kind == "saved_model":
        from keras_albert.export import export_saved_model

        export_saved_model(model, target)
    elif kind == "tflite":
        from keras_albert.export import export_tflite

        export_tflite(model, target)
    elif kind == "checkpoint":
        from keras_albert.pretraining import StepCheckpoint

        checkpoint = StepCheckpoint(target, save_every=1, keep=5)
        checkpoint.set_model(checkpoint_model(seed=2))
        checkpoint.save(2)
    else:
        raise ValueError(kind)


def main(argv):
    with open(argv[1]) as f:
        spec = json.load(f)
    model = build_models(spec["spm"], seed=2)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    for index, scenario in enumerate(spec["scenarios"]):
        resource.setrlimit(resource.RLIMIT_FSIZE, (scenario["limit"], hard))
        try:
            write(scenario["kind"], model, scenario["target"])
            outcome = "ok"
        except Exception as e:  # noqa: BLE001 - reported to the parent
            outcome = type(e).__name__
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        print(f"RESULT {index} {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main(sys.argv))
