"""AlbertMultipleChoice and its preprocessor: HF parity, packing and
truncation, training on RACE-format files, presets."""

import json
import logging
import os

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertTokenizer
from keras_albert.datasets.race import load_race
from keras_albert.preprocessing.albert_multiple_choice_preprocessor import (
    AlbertMultipleChoicePreprocessor,
)
from keras_albert.tasks.albert_multiple_choice import AlbertMultipleChoice
from tests import hf_oracle
from tests.presets import sources

CLS, SEP = 2, 3
ATOL = 1e-5
WORDS = ["fox", "dog", "film", "plot"]


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _ids(tokenizer, text):
    return tokenizer.tokenize_tf([text]).to_list()[0]


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def _padded_choices(length=12):
    """Token dicts `(2, 3, length)`: six differently padded rows."""
    rows = [hf_oracle.batch_with_padding(batch=3, length=length, seed=s)
            for s in (0, 1)]
    return {k: np.concatenate([r[k] for r in rows]).reshape(2, 3, length)
            for k in rows[0]}


def _race_questions(count=8):
    """RACE-style objects whose answer is the option the article names."""
    objects = []
    for i in range(count):
        answer = WORDS[i % 4]
        others = [w for w in WORDS if w != answer]
        place = (i + i // 4) % 4  # every option letter is used
        options = others[:place] + [answer] + others[place:]
        cloze = i % 2 == 1
        objects.append({
            "article": f"This {answer} was wonderful.",
            "questions": ["This _ was wonderful." if cloze
                          else "What was wonderful?"],
            "options": [options],
            "answers": ["ABCD"[options.index(answer)]],
            "id": f"synthetic{i}.txt",
        })
    return objects


def _write_race_dir(path, objects):
    os.makedirs(path, exist_ok=True)
    for obj in objects:
        with open(os.path.join(path, obj["id"]), "w") as f:
            json.dump(obj, f)
    return str(path)


def _model(tiny_config, tokenizer, num_choices=4, sequence_length=32):
    preprocessor = AlbertMultipleChoicePreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    return AlbertMultipleChoice(AlbertBackbone(**tiny_config),
                                num_choices=num_choices,
                                preprocessor=preprocessor, dropout=0.0)


# -- (1) parity with transformers ------------------------------------------
def test_matches_transformers_multiple_choice(tmp_path, spm_path, caplog):
    import transformers

    hf = hf_oracle.hf_model("AlbertForMultipleChoice")
    path = sources.save_hf(hf, tmp_path / "hf", spm_path=spm_path)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = AlbertMultipleChoice.from_preset(path, num_choices=3)
    assert not caplog.records  # the head came from the checkpoint
    assert ours.num_choices == 3
    assert isinstance(ours.preprocessor, AlbertMultipleChoicePreprocessor)
    with open(spm_path, "rb") as f:
        assert ours.preprocessor.tokenizer.proto == f.read()

    inputs = _padded_choices()
    expected = hf_oracle.hf_forward(hf, inputs).logits.numpy()
    got = ours.predict(inputs, verbose=0)
    assert got.shape == expected.shape == (2, 3)
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5)

    # And back: transformers loads our export with the same logits.
    ours.save_to_preset(str(tmp_path / "export"), format="hf")
    again = transformers.AlbertForMultipleChoice.from_pretrained(
        str(tmp_path / "export")
    ).eval()
    np.testing.assert_allclose(
        hf_oracle.hf_forward(again, inputs).logits.numpy(), expected,
        atol=ATOL, rtol=1e-5,
    )


# -- (4) preprocessing -----------------------------------------------------
def test_layout_blank_filling_and_shapes(tokenizer):
    pre = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=64)
    x = {
        "article": ["The fox jumps over the lazy dog.", "A film."],
        "question": ["The _ jumps.", "What is it?"],
        "options": [["fox", "dog", "cat"], ["a film", "a plot", "keras"]],
        "id": ["a-0", "b-0"],  # ignored
    }
    out = _np(pre(x))
    assert set(out) == {"token_ids", "segment_ids", "padding_mask"}
    assert all(v.dtype == np.int32 for v in out.values())
    batch, choices, length = out["token_ids"].shape
    assert (batch, choices) == (2, 3) and length % 8 == 0
    for b in range(2):
        article = _ids(tokenizer, x["article"][b])
        for c, option in enumerate(x["options"][b]):
            question = x["question"][b]
            # Written out by hand, not by the code under test.
            text = (question.replace("_", option) if "_" in question
                    else question + " " + option)
            qa = _ids(tokenizer, text)
            n = len(article) + len(qa) + 3
            assert out["token_ids"][b, c].tolist() == (
                [CLS] + article + [SEP] + qa + [SEP] + [0] * (length - n))
            assert out["segment_ids"][b, c].tolist() == (
                [0] * (len(article) + 2) + [1] * (len(qa) + 1)
                + [0] * (length - n))
            assert out["padding_mask"][b, c].tolist() == (
                [1] * n + [0] * (length - n))

    # Dynamic padding: a short batch gets a short length (the smallest
    # "auto" width, 16).
    short = _np(pre({"article": ["a"], "question": ["b"],
                     "options": [["c", "d", "e"]]}))
    assert short["token_ids"].shape == (1, 3, 16)
    # Unbatched input gives (num_choices, L).
    single = _np(pre({"article": "a", "question": "b",
                      "options": ["c", "d"]}))
    assert single["token_ids"].shape == (2, 16)


def test_truncation_keeps_question_and_option(tokenizer):
    article = "the quick brown fox jumps over the lazy dog " * 6
    pre = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=32,
                                           max_qa_length=16)
    question = "what jumps?"
    options = ["the fox", "dog"]
    out = _np(pre({"article": [article], "question": [question],
                   "options": [options]}))
    assert out["token_ids"].shape == (1, 2, 32)
    article_ids = _ids(tokenizer, article)
    for c, option in enumerate(options):
        qa = _ids(tokenizer, question + " " + option)
        assert len(qa) <= 16  # short enough to be kept whole
        kept = 32 - 3 - len(qa)
        assert out["token_ids"][0, c].tolist() == (
            [CLS] + article_ids[:kept] + [SEP] + qa + [SEP])
        assert out["padding_mask"][0, c].sum() == 32

    # A question+option over `max_qa_length` keeps its end (the option).
    long_question = "the quick brown fox jumps over the lazy dog _"
    options = ["keras", "tokens"]
    out = _np(pre({"article": [article], "question": [long_question],
                   "options": [options]}))
    for c, option in enumerate(options):
        qa = _ids(tokenizer, long_question.replace("_", option))
        assert len(qa) > 16
        row = out["token_ids"][0, c].tolist()
        assert row[-17:] == qa[-16:] + [SEP]
        # 32 - 3 specials - 16 question/option tokens leaves 13.
        assert row[:15] == [CLS] + article_ids[:13] + [SEP]

    with pytest.raises(ValueError, match="truncate"):
        AlbertMultipleChoicePreprocessor(tokenizer, truncate="waterfall")
    rr = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=32,
                                          truncate="round_robin")
    out = _np(rr({"article": [article], "question": [long_question],
                  "options": [options]}))
    # Round robin alternates instead: the question/option loses more and
    # the article less than with "article_first".
    qa_kept = (out["segment_ids"][0, 0] == 1).sum() - 1
    article_kept = out["padding_mask"][0, 0].sum() - qa_kept - 3
    assert qa_kept + article_kept == 29
    assert 0 < qa_kept < 16 and article_kept > 13


def test_preprocessor_rejects_bad_input_and_round_trips(tokenizer):
    import tensorflow as tf

    pre = AlbertMultipleChoicePreprocessor(tokenizer, sequence_length=32,
                                           max_qa_length=16)
    with pytest.raises(ValueError, match=r"lack \['options'\]"):
        pre({"article": ["a"], "question": ["b"]})
    with pytest.raises(ValueError, match="same number of options"):
        pre({"article": ["a", "b"], "question": ["c", "d"],
             "options": [["e", "f"], ["g"]]})
    with pytest.raises(ValueError, match="must hold strings"):
        pre({"article": ["a"], "question": ["b"], "options": [[1, 2]]})
    with pytest.raises(ValueError, match="same batch size"):
        pre({"article": ["a", "b"], "question": ["c"],
             "options": [["e", "f"]]})

    restored = AlbertMultipleChoicePreprocessor.from_config(
        pre.get_config()
    )
    assert (restored.sequence_length, restored.max_qa_length,
            restored.truncate) == (32, 16, "article_first")
    # The SentencePiece model travels as an asset, not in the config.
    assert restored.get_config() == pre.get_config()

    # Maps over a tf.data dataset of (dict, label) pairs.
    x = {"article": ["a fox", "a dog"], "question": ["who?", "who?"],
         "options": [["fox", "dog"], ["fox", "dog"]]}
    ds = tf.data.Dataset.from_tensor_slices((x, [0, 1])).batch(2).map(pre)
    features, labels = next(iter(ds))
    assert features["token_ids"].shape[:2] == (2, 2)
    np.testing.assert_array_equal(
        features["token_ids"].numpy(),
        _np(pre(x))["token_ids"],
    )
    assert labels.numpy().tolist() == [0, 1]


# -- (2) training on RACE-format files -------------------------------------
def test_trains_on_race_files_and_reports_accuracy(tmp_path, tiny_config,
                                                   tokenizer):
    x, y = load_race(_write_race_dir(tmp_path / "race",
                                     _race_questions()))
    assert sorted(set(y.tolist())) == [0, 1, 2, 3]
    model = _model(tiny_config, tokenizer, sequence_length=64)
    # At 2e-3 this tiny post-LayerNorm model collapsed to one constant
    # output for some seeds (loss stuck at ln 4, seen in CI); at 1e-3 for
    # 48 steps six seeds ended between 0.40 and 0.61.
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0))
    tokens = _np(model.preprocessor(x))
    assert tokens["padding_mask"][:, :, -1].sum() == 0  # nothing truncated
    before = model.evaluate(tokens, y, verbose=0, return_dict=True)
    assert before["loss"] == pytest.approx(np.log(4), abs=0.02)  # chance

    # Straight from the reader's output: 48 steps on batches of one padded
    # shape (one compiled step), each question seen 48 times.
    x16 = {k: v * 16 for k, v in x.items()}
    history = model.fit(x16, np.tile(y, 16), batch_size=8, epochs=3,
                        shuffle=False, validation_data=(x, y),
                        validation_freq=3, verbose=0)
    assert "val_accuracy" in history.history
    after = model.evaluate(tokens, y, verbose=0, return_dict=True)
    assert after["loss"] < 0.7 * before["loss"], (before, after)

    metrics = model.task_metrics(x, y, batch_size=8)
    assert set(metrics) == {"accuracy"}
    chosen = model.predict_choices(tokens, batch_size=8)
    assert chosen.shape == (8,)
    assert metrics["accuracy"] == pytest.approx((chosen == y).mean())
    assert metrics["accuracy"] == pytest.approx(after["accuracy"])
    assert metrics["accuracy"] >= 0.5  # chance is 0.25
    # Hand-checked: right on questions 0-2, wrong on 3-7 -> 3/8.
    labels = chosen.copy()
    labels[3:] = (labels[3:] + 1) % 4
    assert model.task_metrics(tokens, labels, batch_size=8) == {
        "accuracy": 0.375}


def test_token_inputs_and_bad_data(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, num_choices=3)
    model.compile()
    inputs = _padded_choices()
    model.fit(inputs, np.array([0, 2]), epochs=1, verbose=0)
    assert model.predict_choices(inputs).shape == (2,)
    four = {k: np.concatenate([v, v[:, :1]], axis=1)
            for k, v in inputs.items()}
    with pytest.raises(ValueError, match=r"num_choices=3"):
        model.predict(four, verbose=0)

    x = {"article": ["a"], "question": ["b"],
         "options": [["c", "d", "e", "f"]]}
    with pytest.raises(ValueError, match="Question 0 has 4 options"):
        model.predict(x)
    x["options"] = [["c", "d", "e"]]
    with pytest.raises(ValueError, match="Label 3 is out of range"):
        model.fit(x, np.array([3]), verbose=0)
    with pytest.raises(ValueError, match="needs labels"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match="`options` must hold strings"):
        model.predict(dict(x, options=[["c", None, "e"]]))
    with pytest.raises(ValueError, match=r"lacks \['question'\]"):
        model.predict({"article": ["a"], "options": [["c", "d", "e"]]})
    with pytest.raises(ValueError, match="num_choices"):
        AlbertMultipleChoice(AlbertBackbone(**tiny_config), num_choices=0)


# -- (5), (6) presets ------------------------------------------------------
def test_preset_round_trip_and_other_num_choices(tmp_path, tiny_config,
                                                 tokenizer):
    model = _model(tiny_config, tokenizer, sequence_length=40)
    model.preprocessor.max_qa_length = 12
    x, _ = load_race(_write_race_dir(tmp_path / "race",
                                     _race_questions(4)))
    tokens = _np(model.preprocessor(x))
    expected = model.predict(tokens, verbose=0)

    preset = str(tmp_path / "preset")
    model.save_to_preset(preset)
    restored = AlbertMultipleChoice.from_preset(preset)
    pre = restored.preprocessor
    assert isinstance(pre, AlbertMultipleChoicePreprocessor)
    assert (pre.sequence_length, pre.max_qa_length) == (40, 12)
    # Same text in, same logits out: tokenizer, packing and weights.
    restored_tokens = _np(pre(x))
    keras.tree.map_structure(np.testing.assert_array_equal,
                             restored_tokens, tokens)
    np.testing.assert_array_equal(
        restored.predict(restored_tokens, verbose=0), expected)

    # Each option is scored on its own, so three options get the scores
    # the four-option model gave them, with the fine-tuned head kept.
    three = AlbertMultipleChoice.from_preset(preset, num_choices=3)
    assert three.num_choices == 3
    import tensorflow as tf

    x3 = dict(x, options=[o[:3] for o in x["options"]])
    # A tf.data dataset of RACE dicts is preprocessed on the fly.
    dataset = tf.data.Dataset.from_tensor_slices(x3).batch(4)
    np.testing.assert_allclose(three.predict(dataset, verbose=0),
                               expected[:, :3], atol=1e-6)

    # Keras' own format round-trips too.
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0),
                                  expected)
