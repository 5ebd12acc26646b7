"""Task models on token ids: training, saving, restoring."""

import os

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMaskedLM
from keras_albert import AlbertPretrainer
from tests import hf_oracle


def _token_data(n=16, length=12, seed=0):
    rng = np.random.default_rng(seed)
    x = hf_oracle.batch_with_padding(length=length, seed=seed)
    reps = -(-n // 3)
    x = {k: np.concatenate([v] * reps)[:n] for k, v in x.items()}
    x["token_ids"] = np.where(
        x["padding_mask"] == 1, rng.integers(5, 160, size=(n, length)), 0
    ).astype("int32")
    x["token_ids"][:, 0] = 2
    return x


def test_classifier_learns_token_ids(tiny_config):
    x = _token_data()
    # Label = whether token 7 appears in the first half of the sequence.
    x["token_ids"][::2, 1] = 7
    y = (x["token_ids"][:, :6] == 7).any(axis=1).astype("int32")
    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2,
                             dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, y, batch_size=8, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] == 1.0
    assert model.predict(x, verbose=0).shape == (16, 2)


def test_regression_head(tiny_config):
    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=1)
    model.compile()
    x = _token_data(n=8)
    model.fit(x, np.linspace(0, 5, 8).astype("float32"), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 1)
    with pytest.raises(ValueError, match="num_classes"):
        AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=0)


def _pretraining_batch(n=8, predictions=3):
    x = _token_data(n=n)
    rng = np.random.default_rng(3)
    positions = np.stack(
        [rng.choice(np.arange(1, 5), predictions, replace=False)
         for _ in range(n)]
    ).astype("int32")
    labels = np.take_along_axis(x["token_ids"], positions, axis=1)
    x["token_ids"] = x["token_ids"].copy()
    np.put_along_axis(x["token_ids"], positions, 4, axis=1)  # [MASK]
    x["mask_positions"] = positions
    weights = np.ones_like(positions, dtype="float32")
    weights[:, -1] = 0.0  # a padded prediction slot
    sop = (np.arange(n) % 2).astype("int32")
    return x, labels, weights, sop


def test_pretrainer_trains_and_reports_both_metrics(tiny_config):
    x, labels, weights, sop = _pretraining_batch()
    model = AlbertPretrainer(AlbertBackbone(**tiny_config))
    model.compile(optimizer=keras.optimizers.Lamb(1e-2))
    history = model.fit(
        x, {"mlm": labels, "sop": sop}, sample_weight={"mlm": weights, "sop": np.ones(len(sop), "float32")},
        batch_size=4, epochs=8, verbose=0,
    )
    logs = history.history
    assert {"mlm_mlm_accuracy", "sop_sop_accuracy"} <= set(logs) or {
        "mlm_accuracy", "sop_accuracy"} <= set(logs), sorted(logs)
    assert logs["loss"][-1] < logs["loss"][0]


def test_masked_lm_shapes(tiny_config):
    x, labels, weights, _ = _pretraining_batch()
    model = AlbertMaskedLM(AlbertBackbone(**tiny_config))
    model.compile()
    model.fit(x, labels, sample_weight=weights, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 3, 160)


@pytest.mark.parametrize("cls", [AlbertClassifier, AlbertMaskedLM,
                                 AlbertPretrainer])
def test_task_save_roundtrips(cls, tiny_config, tmp_path):
    kwargs = {"num_classes": 3} if cls is AlbertClassifier else {}
    model = cls(AlbertBackbone(**tiny_config), **kwargs)
    x, *_ = _pretraining_batch()
    if cls is AlbertClassifier:
        x.pop("mask_positions")
    expected = model.predict(x, verbose=0)

    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    keras.tree.map_structure(
        np.testing.assert_array_equal, expected,
        restored.predict(x, verbose=0),
    )

    preset = os.path.join(tmp_path, "preset")
    model.save_to_preset(preset)
    restored = cls.from_preset(preset)
    keras.tree.map_structure(
        np.testing.assert_array_equal, expected,
        restored.predict(x, verbose=0),
    )
    # Every task preset also holds a loadable backbone.
    backbone = AlbertBackbone.from_preset(preset)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(backbone.token_embedding),
        keras.ops.convert_to_numpy(model.backbone.token_embedding),
    )


def test_classifier_from_backbone_preset_gets_fresh_head(tiny_config,
                                                         tmp_path):
    backbone = AlbertBackbone(**tiny_config)
    backbone.save_to_preset(str(tmp_path))
    model = AlbertClassifier.from_preset(str(tmp_path), num_classes=4)
    assert model.num_classes == 4
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.backbone.token_embedding),
        keras.ops.convert_to_numpy(backbone.token_embedding),
    )


def test_classifier_with_other_num_classes_than_saved(tiny_config, tmp_path):
    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2)
    model.save_to_preset(str(tmp_path))
    other = AlbertClassifier.from_preset(str(tmp_path), num_classes=5)
    assert other.num_classes == 5
    assert AlbertClassifier.from_preset(str(tmp_path)).num_classes == 2


def test_task_rejects_out_of_range_token_ids(tiny_config):
    model = AlbertClassifier(AlbertBackbone(**tiny_config), num_classes=2)
    model.compile()
    x = _token_data(n=4)
    x["token_ids"][0, 1] = 500
    with pytest.raises(ValueError, match="Token id 500"):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match="Token id 500"):
        model.fit(x, np.zeros(4, "int32"), verbose=0)
