"""AlbertTokenClassifier: HF parity, label alignment, windows, training,
entity offsets and presets."""

import os
import warnings

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing import (
    albert_token_classification_preprocessor as token_preprocessing,
)
from keras_albert.tasks.albert_token_classifier import AlbertTokenClassifier
from tests import hf_oracle
from tests.presets import sources

AlbertTokenClassificationPreprocessor = (
    token_preprocessing.AlbertTokenClassificationPreprocessor)
window_ranges = token_preprocessing.window_ranges

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _pieces(tokenizer, word):
    ids = tokenizer([word])
    ids = ids.to_list() if hasattr(ids, "to_list") else ids
    return [int(i) for i in np.asarray(ids[0]).ravel()]


def _tagger(tokenizer, config, sequence_length=32, **kwargs):
    preprocessor = AlbertTokenClassificationPreprocessor(
        tokenizer, sequence_length=sequence_length, **kwargs)
    return AlbertTokenClassifier(AlbertBackbone(**config), labels=LABELS,
                                 preprocessor=preprocessor, dropout=0.0)


# -- (1) parity with transformers ------------------------------------------
def test_logits_match_transformers(tmp_path, spm_path):
    import transformers

    hf = hf_oracle.hf_model("AlbertForTokenClassification", num_labels=5)
    path = sources.save_hf(hf, tmp_path / "hf", spm_path=spm_path)
    ours = AlbertTokenClassifier.from_preset(path, labels=LABELS)
    assert ours.labels == LABELS

    inputs = hf_oracle.batch_with_padding()
    valid = inputs["padding_mask"].astype(bool)
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    got = ours.predict(inputs, verbose=0)
    assert got.shape == (3, 12, 5)
    np.testing.assert_allclose(got[valid], expected[valid], atol=1e-4,
                               rtol=1e-4)

    # Text goes through our preprocessor: each word's logits are those of
    # its first piece in the transformers model, fed the same packed ids.
    sentences = ["The quick  brown fox", ["Keras", "runs", "layers"]]
    x = ours.preprocessor(sentences)
    hf_logits = hf_oracle.hf_forward(hf, x).logits.numpy()
    encoded = ours.preprocessor.encode_batch(sentences)
    for row, (e, word_logits) in enumerate(
            zip(encoded, ours.predict(sentences))):
        positions = [p for _, p in e.word_positions]
        np.testing.assert_allclose(word_logits, hf_logits[row, positions],
                                   atol=1e-4, rtol=1e-4)

    # And back: transformers loads what we write.
    ours.save_to_preset(str(tmp_path / "out"), format="hf")
    reloaded = transformers.AlbertForTokenClassification.from_pretrained(
        str(tmp_path / "out")).eval()
    np.testing.assert_allclose(
        hf_oracle.hf_forward(reloaded, inputs).logits.numpy()[valid],
        got[valid], atol=1e-4, rtol=1e-4)
    # The tag names travel as id2label, so no `labels=` is needed back.
    assert reloaded.config.id2label[1] == ours.labels[1]
    assert AlbertTokenClassifier.from_preset(
        str(tmp_path / "out")).labels == ours.labels


def test_labels_come_from_hf_id2label(tmp_path):
    tags = ["O", "B-ORG", "I-ORG"]
    hf = hf_oracle.hf_model("AlbertForTokenClassification",
                            id2label=dict(enumerate(tags)),
                            label2id={t: i for i, t in enumerate(tags)})
    path = sources.save_hf(hf, tmp_path / "named")
    assert AlbertTokenClassifier.from_preset(path).labels == tags

    # transformers' placeholder names are no tag set: ask for labels.
    hf = hf_oracle.hf_model("AlbertForTokenClassification", num_labels=3)
    path = sources.save_hf(hf, tmp_path / "placeholder")
    with pytest.raises(ValueError, match="labels="):
        AlbertTokenClassifier.from_preset(path)


# -- (2) labels on first pieces --------------------------------------------
def test_first_piece_of_each_word_carries_the_tag(tokenizer):
    words = ["Jonathan", "lives", "in", "Paris"]
    tags = [1, 0, 0, 3]  # B-PER O O B-LOC
    pieces = [_pieces(tokenizer, w) for w in words]
    # The case the rule is about: a name of several pieces.
    assert len(pieces[0]) > 1 and len(pieces[3]) > 1
    preprocessor = AlbertTokenClassificationPreprocessor(
        tokenizer, sequence_length=64)
    x, label_ids, label_mask = preprocessor([words], [tags])

    # Built independently from the tokenizer, word by word:
    # [CLS] Jonathan's pieces ... [SEP], the tag on each word's first
    # piece, every other position (later pieces, [CLS], [SEP], padding)
    # ignored.
    token_ids, expected_labels, expected_mask = [2], [0], [0]
    for word_pieces, tag in zip(pieces, tags):
        token_ids += word_pieces
        expected_labels += [tag] + [0] * (len(word_pieces) - 1)
        expected_mask += [1] + [0] * (len(word_pieces) - 1)
    token_ids += [3]
    expected_labels += [0]
    expected_mask += [0]
    length = x["token_ids"].shape[1]
    assert length % 8 == 0 and length >= len(token_ids)
    pad = length - len(token_ids)
    np.testing.assert_array_equal(x["token_ids"][0], token_ids + [0] * pad)
    np.testing.assert_array_equal(x["padding_mask"][0],
                                  [1] * len(token_ids) + [0] * pad)
    np.testing.assert_array_equal(label_ids[0], expected_labels + [0] * pad)
    np.testing.assert_array_equal(label_mask[0], expected_mask + [0] * pad)
    assert label_mask.sum() == 4  # one per word

    # A raw string with irregular spacing gives the same row.
    x2, _, _ = preprocessor(["  Jonathan lives\tin   Paris "], [tags])
    np.testing.assert_array_equal(x2["token_ids"], x["token_ids"])


# -- long sentences: windows, nothing truncated ------------------------------
def test_window_ranges_cover_with_overlap():
    starts = list(range(0, 20, 2))  # a word every two pieces
    ranges = window_ranges(20, starts, capacity=6, overlap=2)
    assert ranges[0][0] == 0 and ranges[-1][1] == 20
    for (s0, e0), (s1, e1) in zip(ranges, ranges[1:]):
        assert e1 - s1 <= 6 and e0 - s0 <= 6
        assert s0 < s1 and e0 - s1 >= 2  # advances, shares >= 2 pieces
        assert s1 in starts  # starts on a word
    assert window_ranges(4, [0, 2], capacity=6, overlap=2) == [(0, 4)]
    assert window_ranges(0, [], capacity=6, overlap=2) == []


def test_long_sentence_is_windowed_not_truncated(tokenizer, tiny_config):
    model = _tagger(tokenizer, tiny_config, sequence_length=8)
    words = ("the quick brown fox jumps over the lazy dog while "
             "keras runs layers").split()
    (e,) = model.preprocessor.encode_batch([words], [[0] * len(words)])
    assert len(e.windows) > 2
    assert all(len(w["token_ids"]) <= 8 for w in e.windows)
    first = e.aligned.first_pieces()
    seen = []
    for w, (window, position) in enumerate(e.word_positions):
        row = e.windows[window]
        assert row["word_index"][position] == w
        assert row["token_ids"][position] == e.aligned.token_ids[first[w]]
        seen.append(w)
    # Each word is labelled in exactly one row.
    owned = sorted(i for w in e.windows for i in w["word_index"] if i >= 0)
    assert owned == list(range(len(words))) == seen
    labelled = [i for w in e.windows for i in w["label_ids"] if i >= 0]
    assert len(labelled) == len(words)

    # Predictions: every word, the last included, is read off its own
    # window's logits.
    word_logits = model.predict([words])[0]
    assert word_logits.shape == (len(words), 5)
    assert not np.isnan(word_logits).any()
    x, _, _ = model.preprocessor.pack(e.windows, 8)
    rows = model.predict(x, verbose=0)
    for w, (window, position) in enumerate(e.word_positions):
        np.testing.assert_allclose(word_logits[w], rows[window, position],
                                   atol=1e-5)
    assert len(model.predict_tags([words])[0]) == len(words)


def test_windows_pick_the_most_context(tokenizer):
    preprocessor = AlbertTokenClassificationPreprocessor(
        tokenizer, sequence_length=10, overlap=4)
    text = "the lazy dog jumps over the quick brown fox again and again"
    e = preprocessor.encode(text)
    ranges = window_ranges(len(e.aligned.token_ids),
                           e.aligned.first_pieces(), 8, 4)
    assert len(ranges) == len(e.windows) > 1
    for w, piece in enumerate(e.aligned.first_pieces()):
        window, position = e.word_positions[w]
        assert ranges[window][0] + position - 1 == piece

        def context(r):
            return min(piece - r[0], r[1] - 1 - piece)
        best = max(context(r) for r in ranges if r[0] <= piece < r[1])
        assert context(ranges[window]) == best


# -- (3) training on a tiny NER set ------------------------------------------
NAMES = ["Alice", "Bob", "Carol", "Dave", "Emma", "Frank", "Grace", "Henry"]
CITIES = ["Paris", "London", "Berlin", "Rome"]


def _tiny_ner():
    x, y = [], []
    for i, name in enumerate(NAMES):
        city = CITIES[i % len(CITIES)]
        x.append([name, "lives", "in", city])
        y.append(["B-PER", "O", "O", "B-LOC"])
        # A raw string: split on whitespace.
        x.append(f"yesterday {name} went to {city}")
        y.append(["O", "B-PER", "O", "O", "B-LOC"])
    return x, y


@pytest.fixture(scope="module")
def trained(spm_path):
    from tests.conftest import TINY_CONFIG

    keras.utils.set_random_seed(7)
    # Every batch padded to 32: one shape, so JAX compiles each step once.
    model = _tagger(AlbertTokenizer(proto=spm_path), dict(TINY_CONFIG),
                    pad_to_multiple_of=32)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x, y = _tiny_ner()
    before = model.task_metrics(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=8, epochs=15, verbose=0,
                            validation_data=(x[:4], y[:4]))
    history.caught_warnings = caught
    return model, before, history


def test_tiny_ner_set_trains(trained):
    model, before, history = trained
    # The tag head never reads the pooled output; Keras' warning that the
    # pooler gets no gradient is expected and silenced.
    assert not [w for w in history.caught_warnings
                if "Gradients do not exist" in str(w.message)]
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert "val_loss" in history.history
    x, y = _tiny_ner()
    after = model.task_metrics(x, y)
    assert model.task_metrics(x, y, 8) == after
    assert set(after) >= {"precision", "recall", "f1", "accuracy",
                          "f1_PER", "f1_LOC"}
    assert all(isinstance(v, float) for v in after.values())
    # Chance here is the untrained model (and an all-"O" tagger scores 0).
    assert after["f1"] > 0.8 and after["f1"] > before["f1"] + 0.3
    assert after["accuracy"] > before["accuracy"]
    # Keras' own evaluate on the same sentences: masked loss and accuracy.
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(after["accuracy"], abs=0.1)


def test_trained_entities_point_into_the_text(trained):
    model, _, _ = trained
    text = "  Alice   lives in  PARIS "
    entities = model.predict_entities([text])[0]
    assert entities, "the trained tagger finds the name and the city"
    for entity in entities:
        assert text[entity["start"]:entity["end"]] == entity["text"]
        assert entity["label"] in ("PER", "LOC")
        assert 0.0 < entity["score"] <= 1.0


def test_packed_inputs_pass_through(trained, tokenizer):
    model, _, _ = trained
    x, y = _tiny_ner()
    ids = [[LABELS.index(t) for t in tags] for tags in y]
    ds = model.preprocessor.dataset(x, ids, batch_size=8)
    assert model.fit(ds, epochs=1, verbose=0).history["loss"]
    packed, label_ids, mask = model.preprocessor(x[:8], ids[:8])
    history = model.fit(packed, label_ids, sample_weight=mask, batch_size=8,
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(packed, verbose=0).shape == (
        8, packed["token_ids"].shape[1], 5)


# -- (5) entity offsets in the original string -------------------------------
def test_entities_keep_exact_offsets(tokenizer, tiny_config):
    model = _tagger(tokenizer, tiny_config)
    text = "  Café   RÉSUMÉ\tnaïve  Zoë "
    # A zero kernel makes the bias alone decide: every word is B-PER with
    # probability e^2 / (e^2 + 4 * e^0) = 0.6488.
    model.head.kernel.assign(np.zeros(model.head.kernel.shape, "float32"))
    model.head.bias.assign(np.array([0, 2, 0, 0, 0], "float32"))
    entities = model.predict_entities([text, ["Café", "Zoë"]])
    expected_score = np.exp(2) / (np.exp(2) + 4)
    assert [e["text"] for e in entities[0]] == text.split()
    for entity in entities[0]:
        assert text[entity["start"]:entity["end"]] == entity["text"]
        assert entity["label"] == "PER"
        assert entity["score"] == pytest.approx(expected_score, rel=1e-5)
    assert [(e["start"], e["end"]) for e in entities[0]] == [
        (2, 6), (9, 15), (16, 21), (23, 26)]
    # Word lists: offsets into the words joined by single spaces.
    assert [(e["text"], e["start"], e["end"]) for e in entities[1]] == [
        ("Café", 0, 4), ("Zoë", 5, 8)]
    # A lone string gives that string's entities.
    assert model.predict_entities(text) == entities[0]

    # All I-PER: lenient decoding makes one entity spanning every word,
    # with the original spacing inside it.
    model.head.bias.assign(np.array([0, 0, 2, 0, 0], "float32"))
    (entity,) = model.predict_entities(text)
    assert entity["text"] == "Café   RÉSUMÉ\tnaïve  Zoë"
    assert (entity["start"], entity["end"]) == (2, 26)
    assert model.predict_tags([text]) == [["I-PER"] * 4]
    assert model.predict_entities(["", "   "]) == [[], []]


# -- (7) presets ---------------------------------------------------------
def test_preset_roundtrip_keeps_labels_and_logits(tokenizer, tiny_config,
                                                 tmp_path):
    model = _tagger(tokenizer, tiny_config, sequence_length=16, overlap=3)
    sentences = [["Alice", "lives", "in", "Paris"],
                 "the quick brown fox jumps over the lazy dog again"]
    packed = model.preprocessor(sentences)
    expected = model.predict(packed, verbose=0)
    expected_words = model.predict(sentences)

    model.save_to_preset(str(tmp_path))
    restored = AlbertTokenClassifier.from_preset(str(tmp_path))
    assert restored.labels == LABELS
    assert restored.preprocessor.sequence_length == 16
    assert restored.preprocessor.overlap == 3
    assert restored.preprocessor.tokenizer.proto == tokenizer.proto
    np.testing.assert_array_equal(restored.predict(packed, verbose=0),
                                  expected)
    for a, b in zip(restored.predict(sentences), expected_words):
        np.testing.assert_array_equal(a, b)
    assert restored.predict_tags(sentences) == model.predict_tags(sentences)

    # The same labels restore the same model; other labels mean a new
    # classifier on the saved backbone.
    same = AlbertTokenClassifier.from_preset(str(tmp_path), labels=LABELS)
    np.testing.assert_array_equal(same.predict(packed, verbose=0), expected)
    other = AlbertTokenClassifier.from_preset(str(tmp_path),
                                              labels=["O", "B-ORG", "I-ORG"])
    assert other.labels == ["O", "B-ORG", "I-ORG"]
    assert other.head.kernel.shape == (32, 3)

    backbone_dir = os.path.join(str(tmp_path), "backbone")
    model.backbone.save_to_preset(backbone_dir)
    with pytest.raises(ValueError, match="labels="):
        AlbertTokenClassifier.from_preset(backbone_dir)
    fresh = AlbertTokenClassifier.from_preset(backbone_dir, labels=LABELS)
    assert fresh.num_labels == 5


# -- clear errors --------------------------------------------------------
def test_bad_inputs_raise(tokenizer, tiny_config):
    import tensorflow as tf

    with pytest.raises(ValueError, match="repeats"):
        AlbertTokenClassifier(AlbertBackbone(**tiny_config),
                              labels=["O", "O"])
    with pytest.raises(ValueError, match="list of tag strings"):
        AlbertTokenClassifier(AlbertBackbone(**tiny_config), labels="O")
    model = _tagger(tokenizer, tiny_config)
    model.compile()
    with pytest.raises(ValueError, match="tag 'B-ORG', which is not one"):
        model.fit([["Alice", "lives"]], [["B-ORG", "O"]], verbose=0)
    with pytest.raises(ValueError, match="2 words but 1 labels"):
        model.fit([["Alice", "lives"]], [["O"]], verbose=0)
    with pytest.raises(ValueError, match="need their tags"):
        model.fit([["Alice"]], verbose=0)
    with pytest.raises(ValueError, match="no whitespace"):
        model.predict_tags([["New York", "is"]])
    with pytest.raises(ValueError, match="Sentence 0 has 2 words but 1 tags"):
        model.task_metrics([["Alice", "lives"]], [["O"]])
    strings = tf.data.Dataset.from_tensor_slices(["a b"]).batch(1)
    with pytest.raises(ValueError, match="datasets of strings"):
        model.fit(strings, verbose=0)
    bare = AlbertTokenClassifier(AlbertBackbone(**tiny_config),
                                 labels=LABELS)
    with pytest.raises(ValueError, match="no preprocessor"):
        bare.predict_tags(["Alice lives"])
    with pytest.raises(ValueError, match="overlap"):
        AlbertTokenClassificationPreprocessor(
            tokenizer, sequence_length=8, overlap=6).encode("a b")
    with pytest.raises(ValueError, match="non-negative integer label ids"):
        model.preprocessor([["Alice"]], [["B-PER"]])


def test_non_entity_labels_still_tag(tokenizer, tiny_config):
    preprocessor = AlbertTokenClassificationPreprocessor(tokenizer)
    model = AlbertTokenClassifier(AlbertBackbone(**tiny_config),
                                  labels=["NOUN", "VERB"],
                                  preprocessor=preprocessor)
    tags = model.predict_tags(["dogs run"])
    assert len(tags[0]) == 2 and set(tags[0]) <= {"NOUN", "VERB"}
    with pytest.raises(ValueError, match="use `predict_tags`"):
        model.predict_entities(["dogs run"])
    assert model.get_config()["labels"] == ["NOUN", "VERB"]
