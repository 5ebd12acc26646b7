"""Task models: a backbone plus heads, optionally with a preprocessor."""

from keras_albert.tasks.albert_classifier import AlbertClassifier
from keras_albert.tasks.albert_masked_lm import AlbertMaskedLM
from keras_albert.tasks.albert_pretrainer import AlbertPretrainer
from keras_albert.tasks.albert_task import AlbertTask

__all__ = ["AlbertClassifier", "AlbertMaskedLM", "AlbertPretrainer",
           "AlbertTask"]
