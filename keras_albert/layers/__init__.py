"""Backend-agnostic ALBERT layers (keras.ops only)."""

from keras_albert.layers.activations import gelu_approximate
from keras_albert.layers.albert_feed_forward import AlbertFeedForward
from keras_albert.layers.albert_self_attention import AlbertSelfAttention
from keras_albert.layers.albert_transformer_block import (
    AlbertTransformerBlock,
)
from keras_albert.layers.arg_max import ArgMax
from keras_albert.layers.best_answer_span import BestAnswerSpan
from keras_albert.layers.factorized_embedding import FactorizedEmbedding
from keras_albert.layers.masked_lm_head import MaskedLMHead
from keras_albert.layers.patience_early_exit import PatienceEarlyExit
from keras_albert.layers.sentence_order_head import SentenceOrderHead
from keras_albert.layers.shared_transformer_encoder import (
    SharedTransformerEncoder,
)

__all__ = [
    "AlbertFeedForward",
    "AlbertSelfAttention",
    "AlbertTransformerBlock",
    "ArgMax",
    "BestAnswerSpan",
    "FactorizedEmbedding",
    "MaskedLMHead",
    "PatienceEarlyExit",
    "SentenceOrderHead",
    "SharedTransformerEncoder",
    "gelu_approximate",
]
