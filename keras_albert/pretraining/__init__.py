"""Pretraining ALBERT from raw text: data, optimisation, distribution.

TensorFlow-specific parts (tf.data pipelines, TFRecords, tf.distribute)
live in their own modules; the model code stays backend-agnostic. Names
are imported on first use, so the commands' parsers (`pretrain_cli`,
`tokenizer_cli`) load without TensorFlow.
"""

from typing import TYPE_CHECKING

from keras_albert.utils.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

_TRAINER = "keras_albert.pretraining.trainer"
__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "NgramMasker": "keras_albert.pretraining.ngram_masking",
    "PretrainingConfig": "keras_albert.pretraining.pretraining_config",
    "PretrainingExampleBuilder": "keras_albert.pretraining.example_builder",
    "PretrainingLogger": "keras_albert.pretraining.pretraining_logger",
    "PretrainingResult": _TRAINER,
    "StepCheckpoint": "keras_albert.pretraining.checkpointing",
    "WarmupPolynomialDecay": "keras_albert.optimizers.schedules",
    "build_pretrainer": _TRAINER,
    "iter_pretraining_instances":
        "keras_albert.pretraining.pretraining_dataset",
    "make_optimizer": "keras_albert.pretraining.pretraining_optimizer",
    "make_pretraining_dataset": "keras_albert.pretraining.pretraining_dataset",
    "pretrain": _TRAINER,
    "read_documents": "keras_albert.pretraining.documents",
    "read_tfrecords": "keras_albert.pretraining.tfrecords",
    "split_sentences": "keras_albert.pretraining.documents",
    "write_tfrecords": "keras_albert.pretraining.tfrecords",
})
