"""AlbertBackbone through the shared backbone contract
(`tests/test_case.py::run_backbone_test`)."""

import numpy as np

from keras_albert import AlbertBackbone
from tests.test_case import run_backbone_test

# Every argument differs from its default, so a `get_config` that forgets
# one (or stores its default) fails.
INIT_KWARGS = dict(
    vocabulary_size=160,
    num_layers=2,
    num_heads=2,
    embedding_dim=16,
    hidden_dim=32,
    intermediate_dim=64,
    num_hidden_groups=2,
    inner_group_num=1,
    sharing="ffn",
    activation="gelu",
    dropout=0.1,
    attention_dropout=0.1,
    max_sequence_length=64,
    num_segments=3,
    layer_norm_epsilon=1e-6,
    initializer_range=0.05,
)

TOKENS = {
    "token_ids": np.array([[2, 15, 16, 17, 3, 40, 3, 0],
                           [2, 99, 3, 0, 0, 0, 0, 0]], "int32"),
    "segment_ids": np.array([[0, 0, 0, 0, 0, 1, 1, 0],
                             [0, 0, 2, 0, 0, 0, 0, 0]], "int32"),
    "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 0],
                              [1, 1, 1, 0, 0, 0, 0, 0]], "int32"),
}


def test_albert_backbone(tmp_path):
    run_backbone_test(
        AlbertBackbone,
        INIT_KWARGS,
        TOKENS,
        {"sequence_output": (2, 8, 32), "pooled_output": (2, 32)},
        tmp_path=tmp_path,
    )
