"""Google's original release layout: folder, .tar.gz, and back."""

import io
import os
import tarfile

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertPretrainer
from keras_albert import PresetError
from keras_albert.presets import loader
from tests import hf_oracle
from tests.presets import sources

ATOL = 1e-5


def _hf_from_arrays(cls_name, arrays, cfg, **overrides):
    """transformers given the same arrays, mapped by the hand-written
    table in `sources` (not by the code under test)."""
    hf = hf_oracle.hf_model(cls_name, **overrides)
    state = sources.google_to_hf_by_hand(arrays, cfg)
    if cls_name == "AlbertModel":
        state = {k[len("albert."):]: v for k, v in state.items()
                 if k.startswith("albert.")}
    missing, unexpected = hf.load_state_dict(state, strict=False)
    assert not [m for m in missing if "decoder" not in m], missing
    return hf


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    cfg = sources.tiny_cfg(**sources.TWO_GROUPS)
    names = sources.google_names(2, 2)
    arrays = sources.random_google_arrays(names, cfg)
    path = tmp_path_factory.mktemp("google") / "albert_tiny"
    sources.write_google_release(str(path), arrays, cfg)
    return str(path), arrays, cfg


def test_pretrainer_from_google_folder(release):
    path, arrays, cfg = release
    assert loader.resolve(path) == ("google_dir", path)
    ours = loader.load_task(AlbertPretrainer, AlbertBackbone, path)
    hf = _hf_from_arrays("AlbertForPreTraining", arrays, cfg,
                         **sources.TWO_GROUPS)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    positions = np.array([[1, 2, 5], [3, 4, 1], [1, 2, 3]], "int32")
    got = ours.predict(dict(inputs, mask_positions=positions), verbose=0)
    want = np.take_along_axis(expected.prediction_logits.numpy(),
                              positions[:, :, None], axis=1)
    np.testing.assert_allclose(got["mlm"], want, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got["sop"], expected.sop_logits.numpy(),
                               atol=ATOL, rtol=1e-5)


def test_backbone_from_google_tar(release, tmp_path, monkeypatch, spm_path):
    monkeypatch.setenv("KERAS_ALBERT_CACHE", str(tmp_path / "cache"))
    path, arrays, cfg = release
    with open(spm_path, "rb") as f:
        open(os.path.join(path, "30k-clean.model"), "wb").write(f.read())
    archive = str(tmp_path / "albert_tiny.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(path, arcname="albert_tiny")
    assert loader.resolve(archive) == ("google_tar", archive)
    ours = AlbertBackbone.from_preset(archive)
    hf = _hf_from_arrays("AlbertModel", arrays, cfg, **sources.TWO_GROUPS)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(inputs, verbose=0)
    np.testing.assert_allclose(got["pooled_output"],
                               expected.pooler_output.numpy(), atol=ATOL,
                               rtol=1e-5)
    assert loader.load_tokenizer(archive).lowercase


def test_finetuned_classifier_head_and_google_export(tmp_path):
    cfg = sources.tiny_cfg()
    names = sources.google_names(heads=False, classifier=True)
    arrays = sources.random_google_arrays(names, cfg, seed=4)
    path = sources.write_google_release(str(tmp_path / "cls"), arrays, cfg)
    ours = loader.load_task(AlbertClassifier, AlbertBackbone, path)
    assert ours.num_classes == 3
    hf = _hf_from_arrays("AlbertForSequenceClassification", arrays, cfg,
                         num_labels=3)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    np.testing.assert_allclose(ours.predict(inputs, verbose=0), expected,
                               atol=ATOL, rtol=1e-5)
    # And back out in Google's layout, read by TF under the same names.
    import tensorflow as tf

    out = str(tmp_path / "out")
    ours.save_to_preset(out, format="google")
    reader = tf.train.load_checkpoint(os.path.join(out, "model.ckpt-best"))
    for name, value in arrays.items():
        np.testing.assert_allclose(reader.get_tensor(name), value,
                                   atol=1e-7)


def _evil_tar(path, member, data=b"x", link=None):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        if link is not None:
            info.type = tarfile.SYMTYPE
            info.linkname = link
            tar.addfile(info)
        else:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    "member,link",
    [("../escaped.txt", None), ("/tmp/abs_escaped.txt", None),
     ("albert/link", "/etc/passwd")],
    ids=["dotdot", "absolute", "symlink"],
)
def test_tar_path_traversal_is_refused(tmp_path, monkeypatch, member, link):
    monkeypatch.setenv("KERAS_ALBERT_CACHE", str(tmp_path / "cache"))
    archive = str(tmp_path / "evil.tar.gz")
    _evil_tar(archive, member, link=link)
    with pytest.raises(PresetError, match="Refusing to extract"):
        AlbertBackbone.from_preset(archive)
    assert not (tmp_path / "cache" / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    extracted = tmp_path / "cache" / "extracted"
    # Nothing half-extracted is left behind to be mistaken for a release.
    assert not extracted.exists() or not list(extracted.iterdir())


def test_truncated_tar_and_checkpoint(release, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_ALBERT_CACHE", str(tmp_path / "cache"))
    path, _, _ = release
    archive = str(tmp_path / "albert_tiny.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(path, arcname="albert_tiny")
    data = open(archive, "rb").read()
    open(archive, "wb").write(data[: len(data) // 2])
    with pytest.raises(PresetError, match="truncated or corrupted"):
        AlbertBackbone.from_preset(archive)
    # A checkpoint whose data file lost its second half.
    import shutil

    broken = str(tmp_path / "broken")
    shutil.copytree(path, broken)
    (shard,) = [f for f in os.listdir(broken) if ".data-" in f]
    raw = open(os.path.join(broken, shard), "rb").read()
    open(os.path.join(broken, shard), "wb").write(raw[: len(raw) // 2])
    with pytest.raises(PresetError, match="truncated or corrupted"):
        AlbertBackbone.from_preset(broken)


def test_unexpected_missing_and_misshaped_variables(tmp_path):
    cfg = sources.tiny_cfg()
    names = sources.google_names(heads=False)
    arrays = sources.random_google_arrays(names, cfg)
    extra = {"bert/encoder/transformer/group_1/inner_group_0/LayerNorm/beta":
             np.zeros(32, "float32")}
    path = sources.write_google_release(str(tmp_path / "extra"), arrays,
                                        cfg, extra=extra)
    with pytest.raises(PresetError, match=r"unexpected tensors[^;]*group_1"
                       r"/inner_group_0/LayerNorm/beta: checkpoint \(32,\)"):
        AlbertBackbone.from_preset(path)
    foreign = {"some_other_model/w": np.zeros(3, "float32")}
    path = sources.write_google_release(str(tmp_path / "foreign"), arrays,
                                        cfg, extra=foreign)
    with pytest.raises(PresetError, match=r"some_other_model/w: checkpoint"):
        AlbertBackbone.from_preset(path)
    wrong = dict(arrays)
    wrong["bert/pooler/dense/kernel"] = np.zeros((32, 31), "float32")
    del wrong["bert/embeddings/LayerNorm/beta"]
    path = sources.write_google_release(str(tmp_path / "wrong"), wrong, cfg)
    with pytest.raises(PresetError) as info:
        AlbertBackbone.from_preset(path)
    message = str(info.value)
    assert ("bert/pooler/dense/kernel: checkpoint (32, 31), model expects "
            "(32, 32)") in message
    assert "bert/embeddings/LayerNorm/beta: model expects (16,)" in message
