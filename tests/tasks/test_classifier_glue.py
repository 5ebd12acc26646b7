"""GLUE-style classification and regression: files, pairs, scores."""

import json

import keras
import numpy as np
import pytest

from keras_albert.datasets.text_classification import load_text_classification
from keras_albert.metrics.classification import classification_scores
from keras_albert.metrics.classification import regression_scores
from keras_albert.metrics.pearson_correlation import PearsonCorrelation
from tests.conftest import TINY_CONFIG


def test_classification_scores_hand_checked():
    scores = classification_scores([1, 0, 1, 1], [1, 0, 0, 1])
    # 3 of 4 right. Class 1: tp 2, predicted 2, actual 3 -> F1 = 4/5.
    # Class 0: tp 1, predicted 2, actual 1 -> F1 = 2/3.
    # MCC: TP 2, TN 1, FP 0, FN 1 -> (2*1 - 0*1) / sqrt(2*3*1*2).
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["f1"] == pytest.approx(0.8)
    assert scores["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert scores["mcc"] == pytest.approx(2 / np.sqrt(12))
    three = classification_scores([0, 1, 2, 2], [0, 2, 2, 2], num_classes=3)
    assert "f1" not in three and three["accuracy"] == pytest.approx(0.75)
    assert classification_scores([0, 0], [0, 0])["mcc"] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        classification_scores([0, 1], [0])


def test_regression_scores_hand_checked():
    # Ranks with a tie: true [1, 2.5, 2.5, 4], predicted [1, 3, 2, 4];
    # centred [-1.5, 0, 0, 1.5] and [-1.5, .5, -.5, 1.5]:
    # r = 4.5 / sqrt(4.5 * 5).
    scores = regression_scores([1.0, 2.0, 2.0, 3.0], [1.0, 3.0, 2.0, 4.0])
    assert scores["spearman"] == pytest.approx(4.5 / np.sqrt(22.5))
    assert regression_scores([1, 2, 3], [2, 4, 6])["pearson"] == (
        pytest.approx(1.0))
    assert scores["mse"] == pytest.approx((0 + 1 + 0 + 1) / 4)
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50).round(1)
    ours = regression_scores(a, b)
    assert ours["pearson"] == pytest.approx(scipy_stats.pearsonr(a, b)[0])
    assert ours["spearman"] == pytest.approx(scipy_stats.spearmanr(a, b)[0])


def test_streaming_pearson_equals_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=40).astype("float32")
    b = (a + rng.normal(size=40)).astype("float32")
    metric = PearsonCorrelation()
    metric.update_state(a[:15], b[:15])
    metric.update_state(a[15:, None], b[15:, None])
    assert float(metric.result()) == pytest.approx(
        np.corrcoef(a, b)[0, 1], abs=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_glue_tsv_with_pairs_and_bare_quotes(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(
        "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        '1\t1\t2\tHe said "yes\tHe agreed\n'
        "0\t3\t4\tThe cat sat\tA dog ran\n", encoding="utf-8")
    (a, b), y = load_text_classification(path)
    assert list(a) == ['He said "yes', "The cat sat"]
    assert list(b) == ["He agreed", "A dog ran"]
    assert y.tolist() == [1, 0]


def test_csv_jsonl_label_names_and_regression(tmp_path):
    csv_path = tmp_path / "data.csv"
    csv_path.write_text('text,label\n"good, really",pos\nbad,neg\nok,pos\n')
    x, y = load_text_classification(csv_path)
    assert list(x) == ["good, really", "bad", "ok"]
    assert y.tolist() == [1, 0, 1]  # sorted names: neg, pos
    _, y = load_text_classification(csv_path, label_names=["pos", "neg"])
    assert y.tolist() == [0, 1, 0]
    _, _, names = load_text_classification(csv_path, return_label_names=True)
    assert names == ["neg", "pos"]

    jsonl = tmp_path / "stsb.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in [
        {"sentence1": "a", "sentence2": "b", "score": 4.5},
        {"sentence1": "c", "sentence2": "d", "score": "0.25"},
    ]))
    (a, b), y = load_text_classification(jsonl, regression=True)
    assert y.dtype == np.float32 and y.tolist() == [4.5, 0.25]
    unlabelled = tmp_path / "test.tsv"
    unlabelled.write_text("index\tsentence\n0\thello\n")
    x, y = load_text_classification(unlabelled)
    assert y is None and list(x) == ["hello"]


def test_bad_files_name_the_problem(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("sentence\tlabel\nfine\t1\nbroken line\n")
    with pytest.raises(ValueError, match=r"bad.tsv:3: 1 columns"):
        load_text_classification(path)
    path.write_text("words\tlabel\nfine\t1\n")
    with pytest.raises(ValueError, match="text_column"):
        load_text_classification(path)
    with pytest.raises(ValueError, match="no column 'nope'"):
        load_text_classification(path, text_column="nope")
    path.write_text("sentence\tlabel\nfine\tmaybe\n")
    with pytest.raises(ValueError, match="not in `label_names`"):
        load_text_classification(path, label_names=["yes", "no"])
    with pytest.raises(ValueError, match="not a number"):
        load_text_classification(path, regression=True)
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"text": "a", "label": 1}\n{"text": \n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        load_text_classification(bad_json)
    with pytest.raises(FileNotFoundError):
        load_text_classification(tmp_path / "missing.csv")


def _model(spm_path, num_classes):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    keras.utils.set_random_seed(0)
    pre = AlbertPreprocessor(AlbertTokenizer(proto=spm_path),
                             sequence_length=32)
    return AlbertClassifier(AlbertBackbone(**TINY_CONFIG), num_classes,
                            preprocessor=pre, dropout=0.0)


def test_pair_regression_trains_from_a_file(spm_path, tmp_path):
    # STS-B-like shape (two sentences, a float score); the score, how often
    # "good" occurs in the pair, is easy enough for a tiny model to learn.
    words = ["film", "plot", "dog", "fox", "happy", "sad"]
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(64):
        a = list(rng.choice(words, 3, replace=False))
        b = list(rng.choice(words, 3, replace=False))
        k_a, k_b = rng.integers(0, 3, 2)
        a[:k_a] = ["good"] * k_a
        b[:k_b] = ["good"] * k_b
        rows.append({"sentence1": " ".join(a), "sentence2": " ".join(b),
                     "score": float(k_a + k_b)})
    path = tmp_path / "sts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    x, y = load_text_classification(path, regression=True)

    model = _model(spm_path, num_classes=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert "pearson" in history.history
    scores = model.task_metrics(x, y, batch_size=16)
    assert set(scores) == {"pearson", "spearman", "mse"}
    assert scores["pearson"] > 0.5
    with pytest.raises(ValueError, match="predictions for"):
        model.task_metrics(x, y[:5])


def test_pair_classification_scores(spm_path):
    model = _model(spm_path, num_classes=3)
    a = np.array(["good film", "bad plot", "happy dog"])
    b = np.array(["great film", "boring plot", "sad fox"])
    scores = model.task_metrics((a, b), np.array([0, 1, 2]))
    assert set(scores) == {"accuracy", "macro_f1", "mcc"}
    logits = model.predict((a, b), verbose=0)
    assert scores["accuracy"] == pytest.approx(
        np.mean(logits.argmax(-1) == np.array([0, 1, 2])))
