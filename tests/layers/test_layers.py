"""Unit behaviour of each layer: shapes, configs, masking, sharing."""

import keras
import numpy as np
import pytest

from keras_albert import layers
from keras_albert.layers.activations import get_activation


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def test_gelu_approximate_matches_formula():
    x = np.linspace(-4, 4, 9).astype("float32")
    want = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(_np(layers.gelu_approximate(x)), want,
                               atol=1e-6)
    # "gelu_new" (transformers' name) is the same function; "gelu" is exact.
    assert get_activation("gelu_new") is layers.gelu_approximate
    exact = _np(get_activation("gelu")(x))
    assert np.abs(exact - want).max() > 1e-5
    with pytest.raises(ValueError, match="Unknown activation"):
        get_activation("not_an_activation")


def test_factorized_embedding_shapes_and_config():
    layer = layers.FactorizedEmbedding(
        vocabulary_size=50, embedding_dim=8, hidden_dim=12,
        max_sequence_length=10,
    )
    out = layer(np.array([[2, 5, 3]]), np.zeros((1, 3), "int32"))
    assert tuple(out.shape) == (1, 3, 12)
    assert tuple(layer.token_embeddings.shape) == (50, 8)
    clone = _roundtrip(layer)
    assert clone.embedding_dim == 8


def test_factorized_embedding_rejects_out_of_range_ids():
    layer = layers.FactorizedEmbedding(
        vocabulary_size=50, embedding_dim=8, hidden_dim=12,
        max_sequence_length=10,
    )
    with pytest.raises(ValueError, match="Token id 50 is out of range"):
        layer(np.array([[2, 50]]), np.zeros((1, 2), "int32"))
    with pytest.raises(ValueError, match="Segment id 2 is out of range"):
        layer(np.array([[2, 5]]), np.array([[0, 2]]))


def test_self_attention_ignores_padded_keys():
    layer = layers.AlbertSelfAttention(hidden_dim=16, num_heads=4)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 6, 16)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0]])
    y1 = _np(layer(x, padding_mask=mask))
    x2 = x.copy()
    x2[:, 4:] = rng.normal(size=(1, 2, 16))  # change only padded tokens
    y2 = _np(layer(x2, padding_mask=mask))
    np.testing.assert_allclose(y1[:, :4], y2[:, :4], atol=1e-6)
    _roundtrip(layer)
    with pytest.raises(ValueError, match="divisible"):
        layers.AlbertSelfAttention(hidden_dim=10, num_heads=4)


def test_explicit_attention_path_equals_fused_path():
    layer = layers.AlbertSelfAttention(
        hidden_dim=16, num_heads=2, attention_dropout=0.5
    )
    x = np.random.default_rng(1).normal(size=(2, 5, 16)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    fused = _np(layer(x, padding_mask=mask, training=False))
    layer.probs_dropout.rate = 0.0  # same math, explicit path
    explicit = _np(layer(x, padding_mask=mask, training=True))
    np.testing.assert_allclose(fused, explicit, atol=1e-5)


def test_feed_forward_and_block_roundtrip():
    ffn = layers.AlbertFeedForward(hidden_dim=8, intermediate_dim=16,
                                   activation="gelu_new")
    assert ffn.get_config()["activation"] == "gelu_approximate"
    assert tuple(ffn(np.ones((1, 2, 8), "float32")).shape) == (1, 2, 8)
    _roundtrip(ffn)
    block = layers.AlbertTransformerBlock(8, 2, 16)
    assert tuple(block(np.ones((1, 3, 8), "float32")).shape) == (1, 3, 8)
    _roundtrip(block)


def _encoder(**kwargs):
    args = dict(num_layers=4, hidden_dim=8, num_heads=2, intermediate_dim=16)
    args.update(kwargs)
    encoder = layers.SharedTransformerEncoder(**args)
    encoder.build((None, None, 8))
    return encoder


ATTENTION_PARAMS = 4 * (8 * 8 + 8) + 2 * 8
FFN_PARAMS = (8 * 16 + 16) + (16 * 8 + 8) + 2 * 8


@pytest.mark.parametrize(
    "sharing, groups, inner, expected",
    [
        ("all", 1, 1, ATTENTION_PARAMS + FFN_PARAMS),
        ("all", 2, 1, 2 * (ATTENTION_PARAMS + FFN_PARAMS)),
        ("all", 2, 2, 4 * (ATTENTION_PARAMS + FFN_PARAMS)),
        ("attention", 1, 1, ATTENTION_PARAMS + 4 * FFN_PARAMS),
        ("ffn", 1, 1, 4 * ATTENTION_PARAMS + FFN_PARAMS),
        ("none", 1, 1, 4 * (ATTENTION_PARAMS + FFN_PARAMS)),
    ],
)
def test_sharing_strategies_parameter_counts(sharing, groups, inner,
                                             expected):
    encoder = _encoder(sharing=sharing, num_hidden_groups=groups,
                       inner_group_num=inner)
    assert encoder.count_params() == expected
    y = encoder(np.ones((1, 3, 8), "float32"))
    assert tuple(y.shape) == (1, 3, 8)
    clone = _roundtrip(encoder)
    clone.build((None, None, 8))
    assert clone.count_params() == expected


def test_group_routing_follows_original_albert():
    encoder = _encoder(num_layers=12, num_hidden_groups=3)
    assert [encoder.group_of_layer(i) for i in range(12)] == [
        0] * 4 + [1] * 4 + [2] * 4
    # Non-divisible: int(i / num_layers * num_hidden_groups), as in Google's.
    encoder = _encoder(num_layers=5, num_hidden_groups=2)
    assert [encoder.group_of_layer(i) for i in range(5)] == [
        int(i / 5 * 2) for i in range(5)
    ]


def test_shared_sublayer_is_one_set_of_weights():
    encoder = _encoder(sharing="attention")
    first, second = encoder.blocks[0], encoder.blocks[1]
    assert first.attention is second.attention
    assert first.feedforward is not second.feedforward


def test_encoder_rejects_bad_config():
    with pytest.raises(ValueError, match="sharing"):
        _encoder(sharing="some")
    with pytest.raises(ValueError, match="num_hidden_groups"):
        _encoder(num_hidden_groups=5)


def test_encoder_returns_hidden_states():
    encoder = _encoder()
    x = np.ones((1, 3, 8), "float32")
    out, states = encoder(x, return_hidden_states=True)
    assert len(states) == 5
    np.testing.assert_allclose(_np(states[-1]), _np(out))


def test_heads():
    emb = layers.FactorizedEmbedding(40, 8, 16, max_sequence_length=10)
    emb.build()
    head = layers.MaskedLMHead(emb)
    logits = head(np.ones((2, 5, 16), "float32"),
                  mask_positions=np.array([[0, 1], [2, 4]]))
    assert tuple(logits.shape) == (2, 2, 40)
    full = head(np.ones((2, 5, 16), "float32"))
    assert tuple(full.shape) == (2, 5, 40)
    sop = layers.SentenceOrderHead()
    assert tuple(sop(np.ones((3, 16), "float32")).shape) == (3, 2)
    _roundtrip(sop)


@pytest.mark.parametrize("groups, inner", [(1, 1), (2, 2), (3, 1)])
def test_looped_encoder_equals_unrolled(groups, inner):
    looped = _encoder(num_layers=6, num_hidden_groups=groups,
                      inner_group_num=inner)
    unrolled = _encoder(num_layers=6, num_hidden_groups=groups,
                        inner_group_num=inner, loop_layers=False)
    unrolled.set_weights(looped.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1] * 5])
    np.testing.assert_allclose(
        _np(looped(x, padding_mask=mask)),
        _np(unrolled(x, padding_mask=mask)), atol=1e-5,
    )
