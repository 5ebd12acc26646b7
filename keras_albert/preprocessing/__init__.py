"""Text preprocessing: SentencePiece tokenizer, input packing, training."""

from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_preprocessor import AlbertPreprocessor
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.preprocessing.albert_token_classification_preprocessor import (  # noqa: E501
    AlbertTokenClassificationPreprocessor,
)
from keras_albert.preprocessing.albert_tokenizer import AlbertTokenizer
from keras_albert.preprocessing.sentencepiece_trainer import (
    train_sentencepiece,
)
from keras_albert.preprocessing.token_alignment import TokenAligner

__all__ = [
    "AlbertMultipleChoicePreprocessor",
    "AlbertPreprocessor",
    "AlbertQuestionAnsweringPreprocessor",
    "AlbertTokenClassificationPreprocessor",
    "AlbertTokenizer",
    "TokenAligner",
    "train_sentencepiece",
]
