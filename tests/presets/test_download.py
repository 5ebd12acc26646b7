"""Named presets offline: hub cache with HF_HUB_OFFLINE=1, fast clear
errors without any cache."""

import os
import tarfile
import time

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import PresetError
from keras_albert.presets import loader
from tests import hf_oracle
from tests.presets import sources


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Every cache pointed at an empty folder; every host unreachable
    (a refused local proxy), whatever the machine's network."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("KERAS_ALBERT_CACHE", str(tmp_path / "ka"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("KERAS_ALBERT_SOURCES", raising=False)
    return tmp_path


@pytest.mark.parametrize("offline", [True, False], ids=["offline", "online"])
def test_uncached_named_preset_fails_fast_and_clearly(empty_caches,
                                                      monkeypatch, offline):
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(PresetError) as info:
        AlbertBackbone.from_preset("base")
    assert time.monotonic() - start < 5.0
    message = str(info.value)
    for needle in ("'base-v2'", "hf://albert/albert-base-v2",
                   "storage.googleapis.com/albert_models/"
                   "albert_base_v2.tar.gz",
                   "kaggle://keras/albert/keras/albert_base_en_uncased",
                   "KERAS_ALBERT_CACHE", "HF_HOME", "local path"):
        assert needle in message, needle


def _populate_hub_cache(hub, repo_id, files):
    """The hub cache layout huggingface_hub itself writes."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = hub / ("models--" + repo_id.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)
    return snapshot


def test_named_preset_from_hub_cache_offline(empty_caches, monkeypatch,
                                             spm_path, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hf = hf_oracle.hf_model("AlbertForSequenceClassification", num_labels=2)
    folder = sources.save_hf(hf, tmp_path / "src", spm_path=spm_path)
    files = {n: open(os.path.join(folder, n), "rb").read()
             for n in ("config.json", "model.safetensors", "spiece.model")}
    snapshot = _populate_hub_cache(empty_caches / "hub",
                                   "albert/albert-base-v2", files)
    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    ours = loader.load_task(AlbertClassifier, AlbertBackbone, "base")
    np.testing.assert_allclose(ours.predict(inputs, verbose=0),
                               expected.logits.numpy(), atol=1e-5, rtol=1e-5)
    assert ours.preprocessor is not None
    # hf:// names resolve to the same cached snapshot.
    kind, folder = loader.localize("hf://albert/albert-base-v2")
    assert kind == "hf_dir"
    assert os.path.samefile(folder, snapshot)
    assert loader.load_tokenizer("base-v2") is not None
    with pytest.raises(PresetError, match="base-v1"):
        AlbertBackbone.from_preset("base-v1")


def test_named_preset_from_google_cache(empty_caches, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_ALBERT_SOURCES", "google")
    cfg = sources.tiny_cfg()
    arrays = sources.random_google_arrays(sources.google_names(), cfg)
    release = sources.write_google_release(str(tmp_path / "albert_large"),
                                           arrays, cfg)
    cache = empty_caches / "ka" / "google"
    cache.mkdir(parents=True)
    with tarfile.open(cache / "albert_large_v1.tar.gz", "w:gz") as tar:
        tar.add(release, arcname="albert_large")
    ours = AlbertBackbone.from_preset("large-v1")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(ours.embeddings.token_embeddings),
        arrays["bert/embeddings/word_embeddings"],
    )
