"""`PretrainingConfig`: the paper's learning rate and warm-up, and the
validation of its settings."""

import pytest

from keras_albert.pretraining.pretraining_config import PretrainingConfig


def test_default_learning_rate_and_warmup():
    # The paper: 0.00176 at batch 4096; sqrt scaling below it.
    paper = PretrainingConfig(batch_size=4096, steps=125_000)
    assert paper.peak_learning_rate() == pytest.approx(0.00176)
    assert paper.resolved_warmup_steps() == 3125
    small = PretrainingConfig(batch_size=64, gradient_accumulation_steps=4,
                              steps=1000)
    assert small.effective_batch_size == 256
    assert small.peak_learning_rate() == pytest.approx(0.00176 / 4)
    assert small.resolved_warmup_steps() == 25
    assert PretrainingConfig(learning_rate=0.01).peak_learning_rate() == 0.01
    with pytest.raises(ValueError, match="mixed_precision"):
        PretrainingConfig(mixed_precision="float8")


def test_public_names_stay_importable_from_pretraining():
    import keras_albert.optimizers
    import keras_albert.pretraining
    from keras_albert.pretraining import pretraining_config
    from keras_albert.pretraining import trainer

    assert (keras_albert.pretraining.WarmupPolynomialDecay
            is keras_albert.optimizers.WarmupPolynomialDecay)
    assert keras_albert.pretraining.PretrainingConfig is (
        pretraining_config.PretrainingConfig)
    assert keras_albert.pretraining.pretrain is trainer.pretrain
    for name in ("PretrainingConfig", "PretrainingLogger", "PretrainingResult",
                 "StepCheckpoint", "WarmupPolynomialDecay", "build_pretrainer",
                 "make_optimizer", "pretrain"):
        assert name in keras_albert.pretraining.__all__
        assert hasattr(keras_albert.pretraining, name)
