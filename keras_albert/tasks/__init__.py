"""Task models: a backbone plus heads, optionally with a preprocessor."""

from keras_albert.tasks.albert_classifier import AlbertClassifier
from keras_albert.tasks.albert_early_exit_classifier import (
    AlbertEarlyExitClassifier,
)
from keras_albert.tasks.albert_masked_lm import AlbertMaskedLM
from keras_albert.tasks.albert_multiple_choice import AlbertMultipleChoice
from keras_albert.tasks.albert_pretrainer import AlbertPretrainer
from keras_albert.tasks.albert_question_answerer import (
    AlbertQuestionAnswerer,
)
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.tasks.albert_token_classifier import AlbertTokenClassifier

__all__ = [
    "AlbertClassifier",
    "AlbertEarlyExitClassifier",
    "AlbertMaskedLM",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertQuestionAnswerer",
    "AlbertTask",
    "AlbertTokenClassifier",
]
