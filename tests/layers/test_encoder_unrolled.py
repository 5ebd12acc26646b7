"""`SharedTransformerEncoder.unrolled()`: the supported way to trace the
encoder without its layer loop (TFLite export uses it)."""

import keras
import numpy as np
import pytest

from keras_albert.layers import SharedTransformerEncoder


def _encoder():
    return SharedTransformerEncoder(num_layers=4, hidden_dim=8, num_heads=2,
                                    intermediate_dim=16)


def _traced_call(encoder, x, mask):
    """Calls the encoder the way fit/predict do: on JAX eager calls run
    unrolled on purpose (a `fori_loop` outside `jit` recompiles every
    call), so the loop is only taken under `jax.jit`."""
    if keras.backend.backend() == "jax":
        import jax

        def call(weights, x, m):
            return encoder.stateless_call(weights, [], x, padding_mask=m)[0]

        weights = [v.value for v in encoder.trainable_variables]
        return jax.jit(call)(weights, x, mask)
    return encoder(x, padding_mask=mask)


def test_unrolled_runs_without_the_loop_and_restores_it(monkeypatch):
    encoder = _encoder()
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1] * 5])
    encoder.build((None, None, 8))
    looped = keras.ops.convert_to_numpy(_traced_call(encoder, x, mask))

    def no_loop(*args, **kwargs):
        raise AssertionError("the layer loop ran inside unrolled()")

    monkeypatch.setattr(encoder, "_looped_call", no_loop)
    with encoder.unrolled() as same:
        assert same is encoder and not encoder.loop_layers
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(_traced_call(encoder, x, mask)),
            looped, atol=1e-5)
    assert encoder.loop_layers
    assert encoder.get_config()["loop_layers"] is True
    with pytest.raises(AssertionError, match="layer loop ran"):
        _traced_call(encoder, x, mask)


def test_unrolled_restores_the_setting_after_an_error():
    encoder = SharedTransformerEncoder(num_layers=2, hidden_dim=8,
                                       num_heads=2, intermediate_dim=16,
                                       loop_layers=False)
    with pytest.raises(ValueError, match="inside"):
        with encoder.unrolled():
            raise ValueError("inside")
    assert encoder.loop_layers is False
    encoder.loop_layers = True
    with pytest.raises(ValueError, match="inside"):
        with encoder.unrolled():
            raise ValueError("inside")
    assert encoder.loop_layers is True
