"""Batching by length on every task that takes natural data: predictions in
the caller's order (equal to input-order batching), a few padded shapes,
token budgets, evaluate unchanged by the order, bucketed fit shuffling.

The planning and the order restoration are NumPy and the batches come from
`tf.data` on every backend; only `test_predictions_in_order_on_every_
backend` runs everywhere (a couple of compiled shapes). The rest runs on
TensorFlow only: on JAX every new batch shape is a fresh compile.
"""

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.preprocessing.albert_token_classification_preprocessor import (  # noqa: E501
    AlbertTokenClassificationPreprocessor,
)
from keras_albert.preprocessing.padding import bucket_widths
from keras_albert.tasks.albert_multiple_choice import AlbertMultipleChoice
from keras_albert.tasks.albert_question_answerer import (
    AlbertQuestionAnswerer,
)
from keras_albert.tasks.albert_token_classifier import AlbertTokenClassifier

ATOL = 1e-5
# Lengths out of order (so sorting moves them), from a few pieces to past
# the 16-wide bucket.
TEXTS = [
    "the fox",
    "a lite bert shares its parameters across all layers of the model",
    "good movies make people happy",
    "hi",
    "sentence order prediction asks whether two segments are swapped and "
    "masked language modelling hides tokens",
    "the dog is lazy",
    "keras runs the same layers",
]


tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="backend-independent batching; each batch shape is a compile on "
           "JAX (CI budget): covered by the TensorFlow run")


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _classifier(tokenizer, config, num_classes=3, **pre_kwargs):
    pre = AlbertPreprocessor(tokenizer, sequence_length=32, **pre_kwargs)
    return AlbertClassifier(AlbertBackbone(**config), num_classes=num_classes,
                            preprocessor=pre, dropout=0.0)


def _batches(dataset):
    return [keras.tree.map_structure(np.asarray, b) for b in dataset]


def test_predictions_in_order_on_every_backend(tokenizer, tiny_config):
    # Short texts: one padded width, two batch shapes.
    texts = ["the fox", "hi", "the lazy dog", "a dog", "keras runs"]
    model = _classifier(tokenizer, tiny_config)
    _, batches = model._raw_batches(texts, batch_size=2)
    assert np.concatenate(batches.epoch()).tolist() != list(range(5))
    plain = model.predict(texts, batch_size=2, sort_by_length=False,
                          verbose=0)
    np.testing.assert_allclose(
        model.predict(texts, batch_size=2, verbose=0), plain, atol=ATOL)
    np.testing.assert_allclose(
        model.predict(texts, tokens_per_batch=32, verbose=0), plain,
        atol=ATOL)


@tensorflow_only
@pytest.mark.parametrize("num_classes", [3, 1], ids=["classes", "regression"])
def test_classifier_predictions_come_back_in_order(tokenizer, tiny_config,
                                                   num_classes):
    model = _classifier(tokenizer, tiny_config, num_classes)
    _, batches = model._raw_batches(TEXTS, batch_size=3)
    order = np.concatenate(batches.epoch()).tolist()
    assert order != list(range(len(TEXTS)))  # sorting moves examples
    plain = model.predict(TEXTS, batch_size=3, sort_by_length=False,
                          verbose=0)
    assert plain.shape == (len(TEXTS), num_classes)
    sorted_ = model.predict(TEXTS, batch_size=3, verbose=0)
    np.testing.assert_allclose(sorted_, plain, atol=ATOL)
    if num_classes == 1:
        return
    budget = model.predict(TEXTS, tokens_per_batch=40, verbose=0)
    np.testing.assert_allclose(budget, plain, atol=ATOL)
    pairs = (TEXTS, TEXTS[::-1])
    np.testing.assert_allclose(
        model.predict(pairs, batch_size=3, verbose=0),
        model.predict(pairs, batch_size=3, sort_by_length=False, verbose=0),
        atol=ATOL)


def _narrowest_row_width(batch):
    """The padded width the shortest row of `batch` alone would get."""
    shortest = int(np.asarray(batch["padding_mask"]).sum(axis=1).min())
    return min(w for w in bucket_widths("auto", 32) if w >= shortest)


@tensorflow_only
def test_batches_reuse_a_few_shapes_and_respect_token_budgets(tokenizer,
                                                              tiny_config):
    model = _classifier(tokenizer, tiny_config)
    rng = np.random.default_rng(0)
    words = " ".join(TEXTS).split()
    texts = [" ".join(rng.choice(words, rng.integers(1, 25)))
             for _ in range(40)]
    widths = bucket_widths("auto", 32)
    # Where every shape is compiled (XLA), batches fill up across widths:
    # one shape per width, plus the last, smaller batch.
    model.jit_compile = True
    dataset, _ = model._raw_batches(texts, batch_size=4)
    shapes = {b["token_ids"].shape for b in _batches(dataset)}
    seen = {width for _, width in shapes}
    assert seen <= set(widths) and len(seen) <= len(widths)
    assert len(shapes) <= len(widths) + 1
    assert any(_narrowest_row_width(b) < b["token_ids"].shape[1]
               for b in _batches(dataset))
    # Where shapes cost nothing (TensorFlow graph without XLA, PyTorch
    # eager), no row is padded past its own width.
    model.jit_compile = False
    dataset, _ = model._raw_batches(texts, batch_size=4)
    for batch in _batches(dataset):
        assert len(batch["token_ids"]) <= 4
        assert _narrowest_row_width(batch) == batch["token_ids"].shape[1]
    dataset, _ = model._raw_batches(texts, tokens_per_batch=64)
    rows = 0
    for batch in _batches(dataset):
        count, width = batch["token_ids"].shape
        assert count * width <= 64 or count == 1
        rows += count
    assert rows == len(texts)


@tensorflow_only
def test_evaluate_does_not_depend_on_the_order(tokenizer, tiny_config):
    y = np.array([0, 1, 2, 1, 0, 2, 1])
    weights = np.array([1.0, 0.5, 2.0, 0.0, 1.0, 3.0, 0.25])
    model = _classifier(tokenizer, tiny_config)
    model.compile()
    kwargs = dict(batch_size=3, verbose=0, return_dict=True)
    plain = model.evaluate(TEXTS, y, sample_weight=weights,
                           sort_by_length=False, **kwargs)
    for options in ({}, {"tokens_per_batch": 40}):
        got = model.evaluate(TEXTS, y, sample_weight=weights, **options,
                             **kwargs)
        assert got.keys() == plain.keys()
        for key in plain:
            np.testing.assert_allclose(got[key], plain[key], atol=ATOL)
    regressor = _classifier(tokenizer, tiny_config, num_classes=1)
    regressor.compile()
    scores = np.linspace(0.0, 1.0, len(TEXTS))
    plain = regressor.evaluate(TEXTS, scores, sort_by_length=False, **kwargs)
    got = regressor.evaluate(TEXTS, scores, **kwargs)
    for key in plain:
        # Pearson's r merges centred moments, so an untrained regressor's
        # near-constant predictions give the same r in any batch order.
        np.testing.assert_allclose(got[key], plain[key], atol=ATOL,
                                   rtol=1e-4)


@tensorflow_only
def test_fit_buckets_by_length_and_reshuffles(tokenizer, tiny_config):
    short = ["hi", "the fox", "a dog", "keras", "the plot", "fox", "a",
             "dog"]
    long = [t + " " + TEXTS[1] for t in short]
    texts = [t for pair in zip(short, long) for t in pair]
    y = np.zeros(len(texts), "int32")
    # The weights identify the examples in the batches.
    ids = np.arange(len(texts), dtype="float32")
    model = _classifier(tokenizer, tiny_config)
    dataset = model._raw_dataset(texts, y, ids, batch_size=4, shuffle=True)
    epochs = [_batches(dataset) for _ in range(3)]
    for batches in epochs:
        assert sorted(np.concatenate([b[2] for b in batches])) == list(ids)
        for _, _, weights in batches:
            # Short and long texts never share a batch.
            assert len({int(i) % 2 for i in weights}) == 1
    orders = {tuple(np.concatenate([b[2] for b in batches]))
              for batches in epochs}
    assert len(orders) == 3
    # Plain shuffling still trains (bucketed fits: tests/tasks/
    # test_classifier_text.py); raw validation data is batched by length.
    model.compile()
    history = model.fit(texts, y, batch_size=8, epochs=1, verbose=0,
                        bucket_by_length=False,
                        validation_data=(texts[:4], y[:4]))
    assert np.isfinite(history.history["val_loss"][-1])


@tensorflow_only
def test_bad_arguments_are_named(tokenizer, tiny_config):
    model = _classifier(tokenizer, tiny_config)
    for value in (0, -1, "64", 2.5, True):
        with pytest.raises(ValueError, match="tokens_per_batch"):
            model.predict(TEXTS, tokens_per_batch=value)
    with pytest.raises(ValueError, match="sort_by_length"):
        model.predict(TEXTS, sort_by_length="yes")
    with pytest.raises(ValueError, match="sort_by_length"):
        model.evaluate(TEXTS, [0] * 7, sort_by_length=None)
    with pytest.raises(ValueError, match="bucket_by_length"):
        model.fit(TEXTS, [0] * 7, bucket_by_length="no")
    tokens = {key: np.ones((2, 8), "int32")
              for key in ("token_ids", "segment_ids", "padding_mask")}
    with pytest.raises(ValueError, match="tokens_per_batch"):
        model.predict(tokens, tokens_per_batch=64)
    with pytest.raises(ValueError, match="length_buckets"):
        AlbertPreprocessor(tokenizer, sequence_length=32,
                           length_buckets=[16, 64])


@tensorflow_only
def test_token_classifier_words_come_back_in_order(tokenizer, tiny_config):
    pre = AlbertTokenClassificationPreprocessor(tokenizer, sequence_length=16,
                                                overlap=2)
    model = AlbertTokenClassifier(AlbertBackbone(**tiny_config),
                                  labels=["O", "B-X", "I-X"],
                                  preprocessor=pre, dropout=0.0)
    # The long text takes several windows (rows) of the 16-wide model.
    sentences = [t.split() for t in TEXTS]
    plain = model.predict(sentences, batch_size=2, sort_by_length=False)
    for options in ({}, {"tokens_per_batch": 32}):
        got = model.predict(sentences, batch_size=2, **options)
        assert len(got) == len(plain)
        for a, b in zip(got, plain):
            np.testing.assert_allclose(a, b, atol=ATOL)
    assert model.predict_tags(sentences, tokens_per_batch=32) == (
        model.predict_tags(sentences))


@tensorflow_only
def test_question_answerer_features_come_back_in_order(tokenizer,
                                                       tiny_config):
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=32, doc_stride=8, max_question_length=8)
    model = AlbertQuestionAnswerer(AlbertBackbone(**tiny_config),
                                   preprocessor=pre)
    x = {"question": [t.split()[0] + "?" for t in TEXTS],
         "context": TEXTS}
    features, _ = model._features(x)
    plain = model._feature_logits(features, 3, sort_by_length=False)
    for options in ({}, {"tokens_per_batch": 48}):
        got = model._feature_logits(features, 3, **options)
        for a, b in zip(got[0] + got[1], plain[0] + plain[1]):
            np.testing.assert_allclose(a, b, atol=ATOL)
    answers = model.predict_answers(x, batch_size=3, n_best=3)
    unsorted = model.predict_answers(x, batch_size=3, n_best=3,
                                     sort_by_length=False)
    assert [a["text"] for a in answers] == [a["text"] for a in unsorted]
    np.testing.assert_allclose([a["score"] for a in answers],
                               [a["score"] for a in unsorted], atol=ATOL)


@tensorflow_only
def test_multiple_choice_predictions_come_back_in_order(tokenizer,
                                                        tiny_config):
    pre = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=32)
    model = AlbertMultipleChoice(AlbertBackbone(**tiny_config), num_choices=2,
                                 preprocessor=pre, dropout=0.0)
    x = {"article": TEXTS, "question": ["what is it?"] * len(TEXTS),
         "options": [["a fox", t.split()[-1]] for t in TEXTS]}
    plain = model.predict(x, batch_size=3, sort_by_length=False, verbose=0)
    assert plain.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(model.predict(x, batch_size=3, verbose=0),
                               plain, atol=ATOL)
    np.testing.assert_allclose(
        model.predict(x, tokens_per_batch=96, verbose=0), plain, atol=ATOL)
