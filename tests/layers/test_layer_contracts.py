"""Every layer of `keras_albert.layers` through the shared layer contract
(`tests/test_case.py::run_layer_test`).

Constructor arguments differ from the defaults wherever they can, so a
`get_config` that forgets one (or stores its default) fails."""

import inspect

import keras
import numpy as np
import pytest

from keras_albert import layers
from tests.test_case import check_eager_call_does_not_recompile
from tests.test_case import run_layer_test

BATCH, LENGTH, HIDDEN = 2, 5, 16


def _hidden(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")


def _padding_mask():
    return np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")


def test_factorized_embedding(tmp_path):
    run_layer_test(
        layers.FactorizedEmbedding,
        dict(vocabulary_size=50, embedding_dim=8, hidden_dim=12,
             max_sequence_length=10, num_segments=3, dropout=0.1,
             layer_norm_epsilon=1e-6, initializer_range=0.05,
             validate_inputs=False),
        {"token_ids": np.array([[2, 7, 9, 3, 0], [2, 49, 3, 11, 3]],
                               "int32"),
         "segment_ids": np.array([[0, 0, 1, 1, 2], [0, 0, 0, 1, 1]],
                                 "int32")},
        (BATCH, LENGTH, 12),
        tmp_path=tmp_path,
        # Three tables, LayerNorm gamma/beta, projection kernel/bias.
        expected_num_trainable_weights=7,
    )


def test_albert_self_attention(tmp_path):
    run_layer_test(
        layers.AlbertSelfAttention,
        dict(hidden_dim=HIDDEN, num_heads=4, dropout=0.1,
             attention_dropout=0.1, layer_norm_epsilon=1e-6,
             initializer_range=0.05),
        {"x": _hidden(), "padding_mask": _padding_mask()},
        (BATCH, LENGTH, HIDDEN),
        tmp_path=tmp_path,
        # q, k, v, output kernels and biases; LayerNorm gamma/beta.
        expected_num_trainable_weights=10,
    )


def test_albert_feed_forward(tmp_path):
    run_layer_test(
        layers.AlbertFeedForward,
        dict(hidden_dim=HIDDEN, intermediate_dim=24, activation="relu",
             dropout=0.1, layer_norm_epsilon=1e-6, initializer_range=0.05),
        _hidden(),
        (BATCH, LENGTH, HIDDEN),
        tmp_path=tmp_path,
        expected_num_trainable_weights=6,
    )


def test_albert_transformer_block(tmp_path):
    run_layer_test(
        layers.AlbertTransformerBlock,
        dict(hidden_dim=HIDDEN, num_heads=2, intermediate_dim=24,
             activation="gelu", dropout=0.1, attention_dropout=0.1,
             layer_norm_epsilon=1e-6, initializer_range=0.05),
        {"x": _hidden(), "padding_mask": _padding_mask()},
        (BATCH, LENGTH, HIDDEN),
        tmp_path=tmp_path,
        expected_num_trainable_weights=16,
    )


ENCODER_CASES = {
    # ALBERT: one block for every layer, run as a loop when compiled.
    "shared_loop": (
        dict(num_layers=3, hidden_dim=HIDDEN, num_heads=2,
             intermediate_dim=24, dropout=0.1, attention_dropout=0.1,
             activation="relu", layer_norm_epsilon=1e-6,
             initializer_range=0.05),
        16,
    ),
    # Two inner blocks sharing attention only, unrolled: 2 inner
    # attentions (10 weights each) and 2 layers x 2 inner feed-forwards
    # (6 weights each).
    "attention_inner_groups": (
        dict(num_layers=2, hidden_dim=HIDDEN, num_heads=2,
             intermediate_dim=24, inner_group_num=2, sharing="attention",
             loop_layers=False),
        2 * 10 + 2 * 2 * 6,
    ),
    # Two parameter groups, nothing shared inside them.
    "groups_no_sharing": (
        dict(num_layers=2, hidden_dim=HIDDEN, num_heads=2,
             intermediate_dim=24, num_hidden_groups=2, sharing="none"),
        2 * 16,
    ),
}


def _loops(init_kwargs):
    return init_kwargs.get("loop_layers", True) and (
        init_kwargs["num_layers"] > 1
    )


@pytest.mark.parametrize("case", sorted(ENCODER_CASES))
def test_shared_transformer_encoder(case, tmp_path):
    init_kwargs, num_weights = ENCODER_CASES[case]
    run_layer_test(
        layers.SharedTransformerEncoder,
        init_kwargs,
        {"x": _hidden(), "padding_mask": _padding_mask()},
        (BATCH, LENGTH, HIDDEN),
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
        # Checked (and marked) separately below.
        run_recompile_check=not _loops(init_kwargs),
    )


@pytest.mark.skipif(keras.config.backend() != "jax",
                    reason="JAX's compilation cache")
def test_looped_encoder_eager_calls_do_not_recompile():
    init_kwargs, _ = ENCODER_CASES["shared_loop"]
    assert _loops(init_kwargs)
    check_eager_call_does_not_recompile(
        layers.SharedTransformerEncoder(**init_kwargs),
        {"x": _hidden(), "padding_mask": _padding_mask()},
    )


def test_shared_transformer_encoder_hidden_states(tmp_path):
    init_kwargs, _ = ENCODER_CASES["shared_loop"]
    shape = (BATCH, LENGTH, HIDDEN)
    run_layer_test(
        layers.SharedTransformerEncoder,
        init_kwargs,
        {"x": _hidden(), "padding_mask": _padding_mask()},
        (shape, [shape] * 4),
        tmp_path=tmp_path,
        call_kwargs={"return_hidden_states": True},
    )


def _mlm_head_kwargs(dtype):
    # The head decodes with the embedding's token table, which the owning
    # model builds first; under a policy, the embedding shares it.
    embedding = layers.FactorizedEmbedding(
        vocabulary_size=40, embedding_dim=8, hidden_dim=HIDDEN,
        max_sequence_length=LENGTH, dtype=dtype,
    )
    embedding.build()
    kwargs = dict(embedding_layer=embedding, activation="relu",
                  layer_norm_epsilon=1e-6, initializer_range=0.05)
    if dtype is not None:
        kwargs["dtype"] = dtype
    return kwargs


def test_masked_lm_head(tmp_path):
    run_layer_test(
        layers.MaskedLMHead,
        _mlm_head_kwargs,
        {"sequence_output": _hidden(),
         "mask_positions": np.array([[1, 2, 0], [4, 3, 3]], "int32")},
        (BATCH, 3, 40),
        tmp_path=tmp_path,
        # Its own transform (2), LayerNorm (2) and bias, plus the 7 weights
        # of the tied embedding it tracks (counted once in a model).
        expected_num_trainable_weights=5 + 7,
        not_in_config=("embedding_layer",),
        # Cannot be loaded without its embedding: it is saved (and
        # checked) inside AlbertMaskedLM and AlbertPretrainer.
        run_saving_check=False,
    )


def test_masked_lm_head_without_mask_positions(tmp_path):
    run_layer_test(
        layers.MaskedLMHead,
        _mlm_head_kwargs,
        _hidden(),
        (BATCH, LENGTH, 40),
        tmp_path=tmp_path,
        not_in_config=("embedding_layer",),
        run_saving_check=False,
    )


def test_sentence_order_head(tmp_path):
    run_layer_test(
        layers.SentenceOrderHead,
        dict(num_classes=3, dropout=0.1, initializer_range=0.05),
        _hidden()[:, 0],
        (BATCH, 3),
        tmp_path=tmp_path,
        expected_num_trainable_weights=2,
    )


def test_arg_max(tmp_path):
    run_layer_test(
        layers.ArgMax,
        {},
        _hidden(),
        (BATCH, LENGTH),
        tmp_path=tmp_path,
        expected_num_trainable_weights=0,
        # An int32 output whatever the policy: nothing to compute in it.
        run_precision_check=False,
        float_outputs=False,
    )


def test_best_answer_span(tmp_path):
    rng = np.random.default_rng(0)
    token_ids = rng.integers(5, 40, (BATCH, LENGTH)).astype("int32")
    segment_ids = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 1, 1]], "int32")
    run_layer_test(
        layers.BestAnswerSpan,
        dict(max_answer_length=2, excluded_end_piece_ids=[7, 9]),
        {"start_logits": rng.normal(size=(BATCH, LENGTH)).astype("float32"),
         "end_logits": rng.normal(size=(BATCH, LENGTH)).astype("float32"),
         "token_ids": token_ids, "segment_ids": segment_ids,
         "padding_mask": _padding_mask()},
        {"span_start": (BATCH,), "span_end": (BATCH,),
         "span_score": (BATCH,), "null_score": (BATCH,)},
        tmp_path=tmp_path,
        expected_num_trainable_weights=0,
        # Scores follow the logits' dtype, span ends are int32.
        run_precision_check=False,
    )


def _early_exit_kwargs(dtype):
    # The encoder, pooler and last head belong to the owning task model.
    kwargs = dict(
        encoder=layers.SharedTransformerEncoder(
            num_layers=3, hidden_dim=HIDDEN, num_heads=2,
            intermediate_dim=24, dtype=dtype),
        pooler=keras.layers.Dense(HIDDEN, activation="tanh", dtype=dtype),
        head=keras.layers.Dense(3, dtype=dtype),
        patience=2, regression_threshold=0.5, dropout=0.2,
        initializer_range=0.05, exits_trainable_only=True,
    )
    if dtype is not None:
        kwargs["dtype"] = dtype
    return kwargs


def test_patience_early_exit(tmp_path):
    run_layer_test(
        layers.PatienceEarlyExit,
        _early_exit_kwargs,
        {"x": _hidden(), "padding_mask": _padding_mask()},
        {"logits": (BATCH, 3), "layers_used": (BATCH,),
         "exit_logits": (BATCH, 3, 3)},
        tmp_path=tmp_path,
        # The encoder's 16, pooler and head (2 each), and the stacked
        # kernel and bias of the exits after layers 1 and 2.
        expected_num_trainable_weights=16 + 2 + 2 + 2,
        not_in_config=("encoder", "pooler", "head"),
        # Saved (and checked) inside AlbertEarlyExitClassifier.
        run_saving_check=False,
    )


COVERED = {
    "AlbertFeedForward", "AlbertSelfAttention", "AlbertTransformerBlock",
    "ArgMax", "BestAnswerSpan", "FactorizedEmbedding", "MaskedLMHead",
    "PatienceEarlyExit",
    "SentenceOrderHead", "SharedTransformerEncoder",
}


def test_every_layer_class_has_a_contract_test():
    """A new Layer in keras_albert/layers needs a case in this file."""
    import importlib
    import pkgutil

    found = set()
    for info in pkgutil.iter_modules(layers.__path__):
        module = importlib.import_module(f"keras_albert.layers.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(
                    value, keras.layers.Layer) and (
                    value.__module__ == module.__name__):
                found.add(name)
    assert found == COVERED, (
        f"layers without a contract test: {sorted(found - COVERED)}; "
        f"gone: {sorted(COVERED - found)}"
    )
