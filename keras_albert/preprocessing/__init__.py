"""Text preprocessing: SentencePiece tokenizer, input packing, training."""

from keras_albert.preprocessing.albert_preprocessor import AlbertPreprocessor
from keras_albert.preprocessing.albert_tokenizer import AlbertTokenizer
from keras_albert.preprocessing.sentencepiece_trainer import (
    train_sentencepiece,
)

__all__ = ["AlbertPreprocessor", "AlbertTokenizer", "train_sentencepiece"]
