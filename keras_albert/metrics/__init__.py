"""Evaluation metrics: task scores on predictions in plain Python/NumPy
(GLUE, seqeval-style entity F1, official SQuAD) and streaming Keras
metrics."""

from keras_albert.metrics.classification import classification_scores
from keras_albert.metrics.classification import regression_scores
from keras_albert.metrics.pearson_correlation import PearsonCorrelation
from keras_albert.metrics.sequence_labeling import Entity
from keras_albert.metrics.sequence_labeling import entity_scores
from keras_albert.metrics.sequence_labeling import get_entities
from keras_albert.metrics.sequence_labeling import infer_scheme
from keras_albert.metrics.sequence_labeling import parse_tag
from keras_albert.metrics.sequence_labeling import token_accuracy
from keras_albert.metrics.squad import best_threshold_scores
from keras_albert.metrics.squad import exact_match_score
from keras_albert.metrics.squad import f1_score
from keras_albert.metrics.squad import normalize_answer
from keras_albert.metrics.squad import squad_scores

__all__ = [
    "Entity",
    "PearsonCorrelation",
    "best_threshold_scores",
    "classification_scores",
    "entity_scores",
    "exact_match_score",
    "f1_score",
    "get_entities",
    "infer_scheme",
    "normalize_answer",
    "parse_tag",
    "regression_scores",
    "squad_scores",
    "token_accuracy",
]
