"""Pretraining ALBERT from raw text: data, optimisation, distribution.

TensorFlow-specific parts (tf.data pipelines, TFRecords, tf.distribute)
live in their own modules; the model code stays backend-agnostic.
"""

from keras_albert.optimizers.schedules import WarmupPolynomialDecay
from keras_albert.pretraining.checkpointing import StepCheckpoint
from keras_albert.pretraining.documents import read_documents
from keras_albert.pretraining.documents import split_sentences
from keras_albert.pretraining.example_builder import (
    PretrainingExampleBuilder,
)
from keras_albert.pretraining.ngram_masking import NgramMasker
from keras_albert.pretraining.pretraining_config import PretrainingConfig
from keras_albert.pretraining.pretraining_dataset import (
    iter_pretraining_instances,
)
from keras_albert.pretraining.pretraining_dataset import (
    make_pretraining_dataset,
)
from keras_albert.pretraining.pretraining_logger import PretrainingLogger
from keras_albert.pretraining.pretraining_optimizer import make_optimizer
from keras_albert.pretraining.tfrecords import read_tfrecords
from keras_albert.pretraining.tfrecords import write_tfrecords
from keras_albert.pretraining.trainer import PretrainingResult
from keras_albert.pretraining.trainer import build_pretrainer
from keras_albert.pretraining.trainer import pretrain

__all__ = [
    "NgramMasker",
    "PretrainingConfig",
    "PretrainingExampleBuilder",
    "PretrainingLogger",
    "PretrainingResult",
    "StepCheckpoint",
    "WarmupPolynomialDecay",
    "build_pretrainer",
    "iter_pretraining_instances",
    "make_optimizer",
    "make_pretraining_dataset",
    "pretrain",
    "read_documents",
    "read_tfrecords",
    "split_sentences",
    "write_tfrecords",
]
