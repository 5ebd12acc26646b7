"""Tampered, truncated and mis-shaped Hugging Face checkpoints fail with
the offending names; pickles never run code."""

import os

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import PresetError
from tests import hf_oracle
from tests.presets import sources


@pytest.fixture
def hf_dir(tmp_path):
    return sources.save_hf(hf_oracle.hf_model("AlbertModel"), tmp_path)


def _rewrite(path, **changes):
    """Re-saves model.safetensors with tensors replaced/added/removed."""
    from safetensors.numpy import load_file
    from safetensors.numpy import save_file

    file = os.path.join(path, "model.safetensors")
    state = load_file(file)
    for name, value in changes.items():
        name = name.replace("__", ".")
        if value is None:
            del state[name]
        else:
            state[name] = value
    save_file(state, file, metadata={"format": "pt"})


def test_truncated_safetensors(hf_dir):
    file = os.path.join(hf_dir, "model.safetensors")
    data = open(file, "rb").read()
    open(file, "wb").write(data[: len(data) // 2])
    with pytest.raises(PresetError, match="truncated or corrupted"):
        AlbertBackbone.from_preset(hf_dir)


def test_tampered_safetensors_header(hf_dir):
    file = os.path.join(hf_dir, "model.safetensors")
    data = bytearray(open(file, "rb").read())
    data[8:20] = b"\x00" * 12  # garbage inside the JSON header
    open(file, "wb").write(bytes(data))
    with pytest.raises(PresetError, match="not a readable safetensors"):
        AlbertBackbone.from_preset(hf_dir)


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickle_never_runs(tmp_path):
    import torch

    folder = sources.save_hf(hf_oracle.hf_model("AlbertModel"), tmp_path,
                             safe=False)
    marker = str(tmp_path / "pwned")
    state = dict(hf_oracle.hf_model("AlbertModel").state_dict())
    state["evil"] = _Payload(marker)
    torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    with pytest.raises(PresetError, match="Refusing to load"):
        AlbertBackbone.from_preset(folder)
    assert not os.path.exists(marker)


def test_misshaped_missing_and_extra_tensors(hf_dir):
    name = "encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"
    _rewrite(hf_dir, **{
        name.replace(".", "__"): np.zeros((64, 31), "float32"),
        "pooler__bias": None,
        "embeddings__LayerNorm__bias": None,
    })
    with pytest.raises(PresetError) as info:
        AlbertBackbone.from_preset(hf_dir)
    message = str(info.value)
    assert ("bert/encoder/transformer/group_0/inner_group_0/ffn_1/"
            "intermediate/dense/kernel: checkpoint (31, 64), model expects "
            "(32, 64)") in message
    assert "bert/embeddings/LayerNorm/beta: model expects (16,)" in message


def test_extra_group_and_unknown_tensor(hf_dir, tmp_path):
    extra = "encoder.albert_layer_groups.1.albert_layers.0.ffn.bias"
    _rewrite(hf_dir, **{extra.replace(".", "__"): np.zeros(64, "float32")})
    with pytest.raises(PresetError, match=r"unexpected tensors[^;]*group_1/"
                       r"inner_group_0/ffn_1/intermediate/dense/bias"):
        AlbertBackbone.from_preset(hf_dir)
    _rewrite(hf_dir, **{extra.replace(".", "__"): None,
                        "encoder__rogue__weight": np.zeros(3, "float32")})
    with pytest.raises(PresetError, match="encoder.rogue.weight"):
        AlbertBackbone.from_preset(hf_dir)


def test_not_a_preset(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(PresetError, match="not a keras-albert preset, nor any other"):
        AlbertBackbone.from_preset(str(tmp_path))
    with pytest.raises(PresetError, match="hf://owner/name"):
        AlbertBackbone.from_preset("hf://just-a-name")
