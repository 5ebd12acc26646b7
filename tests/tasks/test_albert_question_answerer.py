"""AlbertQuestionAnswerer: HF parity, windows, decoding, training, presets."""

import logging
import warnings

import keras
import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertTokenizer
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.tasks.albert_question_answerer import AlbertQuestionAnswerer
from tests import hf_oracle
from tests.presets import sources

CLS, SEP = 2, 3
FILLER = "The quick brown fox jumps over the lazy dog. "


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _ids(tokenizer, text):
    """Piece ids from the in-graph tokenizer: an oracle independent of the
    Python alignment the preprocessor uses."""
    return [int(i) for i in tokenizer.tokenize_tf([text]).to_list()[0]]


def _answer(context, text, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = context.index(text, start + 1)
    return {"text": text, "answer_start": start}


def _decoded(context, offsets, start, end):
    return context[offsets[start][0]:offsets[end][1]]


# -- parity with transformers ----------------------------------------------
def test_logits_match_transformers_and_export_back(tmp_path, spm_path,
                                                   caplog):
    import torch
    import transformers

    hf = hf_oracle.hf_model("AlbertForQuestionAnswering")
    path = sources.save_hf(hf, tmp_path / "hf", spm_path=spm_path)
    with caplog.at_level(logging.WARNING, logger="keras_albert"):
        ours = AlbertQuestionAnswerer.from_preset(path, sequence_length=64)
    # transformers' QA model has no pooler; its span head must be loaded.
    reports = " ".join(r.getMessage() for r in caplog.records)
    assert "qa_outputs" not in reports and "pooler" in reports
    assert isinstance(ours.preprocessor, AlbertQuestionAnsweringPreprocessor)
    assert ours.preprocessor.sequence_length == 64
    with open(spm_path, "rb") as f:
        assert ours.preprocessor.tokenizer.proto == f.read()

    inputs = hf_oracle.batch_with_padding()
    expected = hf_oracle.hf_forward(hf, inputs)
    got = ours.predict(inputs, verbose=0)
    assert set(got) == {"start_logits", "end_logits"}
    assert got["start_logits"].shape == inputs["token_ids"].shape
    # No masking in the model (like transformers): padded rows agree too.
    np.testing.assert_allclose(got["start_logits"],
                               expected.start_logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(got["end_logits"],
                               expected.end_logits.numpy(), atol=1e-4)

    # The default loss is transformers' (mean of start and end CE).
    start_positions = np.array([3, 0, 2], "int32")
    end_positions = np.array([5, 0, 4], "int32")
    ours.compile()
    metrics = ours.evaluate(inputs, (start_positions, end_positions),
                            verbose=0, return_dict=True)
    expected_loss = hf_oracle.hf_forward(
        hf, inputs,
        start_positions=torch.tensor(start_positions, dtype=torch.long),
        end_positions=torch.tensor(end_positions, dtype=torch.long),
    ).loss.item()
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-4)
    assert {"start_logits_accuracy", "end_logits_accuracy"} <= set(metrics)

    ours.save_to_preset(str(tmp_path / "out"), format="hf")
    reloaded = transformers.AlbertForQuestionAnswering.from_pretrained(
        str(tmp_path / "out")
    ).eval()
    again = hf_oracle.hf_forward(reloaded, inputs)
    np.testing.assert_allclose(again.start_logits.numpy(),
                               expected.start_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(again.end_logits.numpy(),
                               expected.end_logits.numpy(), atol=1e-5)


# -- windows over long contexts --------------------------------------------
def test_long_context_windows_overlap_and_keep_the_answer(tokenizer):
    context = FILLER * 5 + "The fox lives in the green forest. " + FILLER * 4
    question = "Where does the quick brown fox live today?"
    answer = _answer(context, "the green forest")
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=32, doc_stride=8, max_question_length=6,
        pad_to_multiple_of=1,
    )
    features = pre.featurize([question], [context], [[answer]])

    question_ids = _ids(tokenizer, question)[:6]
    context_ids = _ids(tokenizer, context)
    room = 32 - len(question_ids) - 3
    assert len(context_ids) > 3 * room
    # Window starts 0, 8, 16, ... until one reaches the end of the context.
    expected_windows = []
    start = 0
    while True:
        expected_windows.append((start, min(start + room, len(context_ids))))
        if start + room >= len(context_ids):
            break
        start += 8
    assert features["window"] == expected_windows
    assert features["example_index"] == [0] * len(expected_windows)

    answer_ids = _ids(tokenizer, answer["text"])
    # A lone word-start marker stands for no character of the answer, so
    # the span starts at the next piece.
    if answer_ids[0] == tokenizer.token_to_id("\u2581"):
        answer_ids = answer_ids[1:]
    containing = 0
    for f, (ws, we) in enumerate(features["window"]):
        ids = features["token_ids"][f]
        assert ids == ([CLS] + question_ids + [SEP] + context_ids[ws:we]
                       + [SEP])
        assert len(ids) <= 32
        assert features["segment_ids"][f] == (
            [0] * (len(question_ids) + 2) + [1] * (we - ws + 1)
        )
        offsets = features["offsets"][f]
        assert [o is None for o in offsets] == (
            [True] * (len(question_ids) + 2) + [False] * (we - ws) + [True]
        )
        start = features["start_positions"][f]
        end = features["end_positions"][f]
        if (start, end) == (0, 0):
            # This window misses (part of) the answer: its pieces are not
            # a contiguous run of the window.
            window = context_ids[ws:we]
            assert not any(
                window[i:i + len(answer_ids)] == answer_ids
                for i in range(len(window))
            )
            continue
        containing += 1
        assert ids[start:end + 1] == answer_ids
        assert _decoded(context, offsets, start, end) == answer["text"]
    assert 1 <= containing < len(expected_windows)

    batch = pre.pad(features, [0, len(expected_windows) - 1])
    lengths = [len(features["token_ids"][0]),
               len(features["token_ids"][-1])]
    assert batch["token_ids"].shape == (2, max(lengths))
    assert batch["padding_mask"].sum(axis=1).tolist() == lengths
    assert batch["token_ids"][1, lengths[1]:].tolist() == [0] * (
        max(lengths) - lengths[1])


def test_impossible_question_and_short_context_point_at_cls(tokenizer):
    pre = AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=64)
    context = "The fox lives in the forest."
    features = pre.featurize(
        ["Where does the dog live?", "Where does the fox live?"],
        [context, context],
        [[], [_answer(context, "forest")]],
    )
    assert features["example_index"] == [0, 1]
    assert (features["start_positions"][0], features["end_positions"][0]) \
        == (0, 0)
    start, end = features["start_positions"][1], features["end_positions"][1]
    assert start > 0
    assert _decoded(context, features["offsets"][1], start, end) == "forest"
    token_dict, targets = pre(
        {"question": ["Where does the fox live?"], "context": [context]},
        [[_answer(context, "forest")]],
    )
    assert token_dict["token_ids"].shape[1] % 8 == 0
    assert targets["start_logits"].tolist() == [start]
    assert targets["end_logits"].tolist() == [end]


def test_bad_inputs_raise_clear_errors(tokenizer, tiny_config):
    pre = AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=64)
    context = "The fox lives in the forest."
    with pytest.raises(ValueError, match="example 0 is not at character 3"):
        pre.featurize(["q"], [context],
                      [[{"text": "forest", "answer_start": 3}]])
    with pytest.raises(ValueError, match="one context per question"):
        pre.featurize(["q", "r"], [context])
    with pytest.raises(ValueError, match="context of example 0 has no tok"):
        pre.featurize(["q"], ["   "])
    with pytest.raises(ValueError, match="sequence_length"):
        AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=3)
    # A short window still holds context: the question gets at most half.
    short = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=20, max_question_length=17)
    question = "where does the quick brown fox live with the lazy dog"
    assert len(_ids(tokenizer, question)) > 17
    features = short.featurize([question], [context])
    assert features["segment_ids"][0].count(0) == 2 + 8
    assert all(len(ids) <= 20 for ids in features["token_ids"])
    with pytest.raises(ValueError, match="doc_stride"):
        AlbertQuestionAnsweringPreprocessor(tokenizer, doc_stride=0)

    model = AlbertQuestionAnswerer(AlbertBackbone(**tiny_config))
    x = {"question": ["q"], "context": [context]}
    with pytest.raises(ValueError, match="no preprocessor"):
        model.predict_answers(x)
    model.preprocessor = AlbertQuestionAnsweringPreprocessor(tokenizer)
    with pytest.raises(ValueError, match="max_sequence_length=64"):
        model.predict_answers(x)
    model.preprocessor.sequence_length = 64
    with pytest.raises(ValueError, match="not bare strings"):
        model.predict(["a question"])
    with pytest.raises(ValueError, match="use `predict_answers"):
        model.predict(x)
    with pytest.raises(ValueError, match="'question' and 'context'"):
        model.predict_answers({"context": [context]})


# -- n-best decoding on hand-made logits -----------------------------------
@pytest.fixture
def two_windows(tokenizer):
    """A context split into overlapping windows, and its features."""
    context = (FILLER * 2 + "The fox lives in the green forest near the "
               "park. " + FILLER * 2)
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=48, doc_stride=12, max_question_length=8)
    features = pre.featurize(["Where does the fox live?"], [context])
    assert len(features["token_ids"]) >= 3
    return pre, context, features


def _position_of(features, f, context, text, edge):
    """Sequence position in feature `f` of the piece starting (`edge=0`) or
    ending (`edge=1`) the first occurrence of `text` in the context."""
    start = context.index(text)
    char = start if edge == 0 else start + len(text)
    for p, offset in enumerate(features["offsets"][f]):
        if offset is not None and offset[edge] == char:
            return p
    raise AssertionError(f"{text!r} is not on piece boundaries of {f}")


def _flat_logits(features, value=-10.0, crossed=False):
    """Low logits everywhere. `crossed`: slightly rising start and falling
    end logits, so each window's best ends come before its best starts."""
    starts, ends = [], []
    for ids in features["token_ids"]:
        ramp = 1e-3 * np.arange(len(ids)) if crossed else 0.0
        starts.append(np.full(len(ids), value) + ramp)
        ends.append(np.full(len(ids), value) - ramp)
    return starts, ends


def _window_with(features, context, text):
    start = context.index(text)
    for f, offsets in enumerate(features["offsets"]):
        spans = [o for o in offsets if o is not None]
        if spans[0][0] <= start and start + len(text) <= spans[-1][1]:
            return f
    raise AssertionError(text)


def test_decoding_respects_length_order_and_context(two_windows):
    pre, context, features = two_windows
    f = _window_with(features, context, "fox lives in the green forest "
                                        "near the park")
    green = _position_of(features, f, context, "green", 0)
    park = _position_of(features, f, context, "park", 1)
    forest = _position_of(features, f, context, "forest", 1)
    fox = _position_of(features, f, context, "fox lives", 0)

    def logits(crossed=False):
        starts, ends = _flat_logits(features, crossed=crossed)
        starts[f][green] = 6.0
        ends[f][park] = 6.0  # "green forest near the park": too long below
        ends[f][forest] = 4.0
        ends[f][fox] = 9.0  # the best end, but before the best start
        # Question and special positions score highest; they are ignored.
        starts[f][1] = ends[f][1] = 50.0
        starts[f][-1] = ends[f][-1] = 50.0
        return starts, ends

    n_pieces = park - green + 1
    assert forest - green + 1 < n_pieces
    # Only the best start and end of each window: all in the wrong order.
    starts, ends = logits(crossed=True)
    none = pre.decode_answers(features, [context], starts, ends, n_best=1)
    assert none[0]["text"] == "" and none[0]["start"] is None
    assert none[0]["n_best"] == []
    two = pre.decode_answers(features, [context], starts, ends, n_best=2)
    assert two[0]["text"] == "green forest near the park"

    starts, ends = logits()
    long_ok = pre.decode_answers(features, [context], starts, ends,
                                 max_answer_length=n_pieces)[0]
    assert long_ok["text"] == "green forest near the park"
    assert long_ok["score"] == pytest.approx(12.0)
    short = pre.decode_answers(features, [context], starts, ends,
                               max_answer_length=n_pieces - 1)[0]
    assert short["text"] == "green forest"
    assert short["score"] == pytest.approx(10.0)
    assert context[short["start"]:short["end"]] == "green forest"
    question_end = context.index("fox lives")
    for candidate in long_ok["n_best"]:
        assert candidate["text"] == context[candidate["start"]:
                                            candidate["end"]]
        # Spans ending at "fox" start before it (never at "green").
        if candidate["end"] == question_end + 3:
            assert candidate["start"] < question_end + 3
    scores = [c["score"] for c in long_ok["n_best"]]
    assert scores == sorted(scores, reverse=True)
    assert len(long_ok["n_best"]) == 20


def test_decoding_picks_the_best_window_and_null_answers(two_windows):
    pre, context, features = two_windows
    starts, ends = _flat_logits(features)
    f_park = _window_with(features, context, "the park")
    f_fox = _window_with(features, context, "quick brown fox")
    assert f_fox != f_park
    starts[f_fox][_position_of(features, f_fox, context, "quick", 0)] = 2.0
    ends[f_fox][_position_of(features, f_fox, context, "fox", 1)] = 1.0
    starts[f_park][_position_of(features, f_park, context, "park", 0)] = 2.5
    ends[f_park][_position_of(features, f_park, context, "park", 1)] = 2.0
    # [CLS] scores 5 in every window but one, where it scores 4: the null
    # score is the lowest over windows.
    for f in range(len(starts)):
        starts[f][0], ends[f][0] = 2.5, 2.5
    starts[f_fox][0], ends[f_fox][0] = 2.0, 2.0

    v1 = pre.decode_answers(features, [context], starts, ends)[0]
    assert v1["text"] == "park" and v1["score"] == pytest.approx(4.5)
    assert v1["null_score"] == pytest.approx(4.0)
    assert all(c["text"] for c in v1["n_best"])  # no null in SQuAD 1.1
    assert v1["n_best"][1]["text"] == "quick brown fox"

    # 4.0 (null) - 4.5 (best span) = -0.5.
    v2 = pre.decode_answers(features, [context], starts, ends,
                            version_2=True,
                            null_score_diff_threshold=-0.6)[0]
    assert v2["text"] == "" and v2["start"] is None
    assert v2["score"] == pytest.approx(4.0)
    assert [c["text"] for c in v2["n_best"][:2]] == ["park", ""]
    kept = pre.decode_answers(features, [context], starts, ends,
                              version_2=True,
                              null_score_diff_threshold=-0.4)[0]
    assert kept["text"] == "park"

    # The same piece span seen by two overlapping windows counts once.
    f_a, f_b = 0, 1
    both = context.index("lazy dog")
    assert all(
        any(o is not None and o[0] == both for o in features["offsets"][f])
        for f in (f_a, f_b)
    )
    starts, ends = _flat_logits(features)
    for f, boost in ((f_a, 1.0), (f_b, 3.0)):
        starts[f][_position_of(features, f, context, "lazy dog", 0)] = boost
        ends[f][_position_of(features, f, context, "lazy dog", 1)] = boost
    top = pre.decode_answers(features, [context], starts, ends)[0]
    assert top["text"] == "lazy dog" and top["score"] == pytest.approx(6.0)
    assert [c["text"] for c in top["n_best"]].count("lazy dog") == 1


# -- exact original text with accents, case and spaces ---------------------
def test_answers_keep_the_original_characters(tokenizer):
    context = ("Ms.  RÉSUMÉ   lives  in   Café  NAÏVE\tCity, near "
               "Cafe\u0301 Brown.")
    pre = AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=64)
    answers = ["Café  NAÏVE\tCity", "Cafe\u0301", "RÉSUMÉ"]
    features = pre.featurize(
        ["Where does she live?"] * 3, [context] * 3,
        [[_answer(context, a)] for a in answers],
    )
    assert features["example_index"] == [0, 1, 2]
    starts, ends = _flat_logits(features)
    for f, text in enumerate(answers):
        start = features["start_positions"][f]
        end = features["end_positions"][f]
        assert _decoded(context, features["offsets"][f], start, end) == text
        starts[f][start] = ends[f][end] = 5.0
    predictions = pre.decode_answers(features, [context] * 3, starts, ends)
    assert [p["text"] for p in predictions] == answers
    for p in predictions:
        assert context[p["start"]:p["end"]] == p["text"]


# -- training on a tiny synthetic SQuAD ------------------------------------
NAMES = ["the fox", "the dog", "the model", "keras", "the token", "the actor"]
PLACES = ["the forest", "the park", "the film", "the layers", "the text",
          "the plot", "the space"]


def _synthetic_squad(count, seed):
    rng = np.random.default_rng(seed)
    fillers = ["Good movies make people happy.", "The dog is lazy.",
               "Keras runs layers."]
    x = {"id": [], "question": [], "context": []}
    y = []
    for i in range(count):
        name = NAMES[rng.integers(len(NAMES))]
        place = PLACES[rng.integers(len(PLACES))]
        before = " ".join(rng.choice(fillers, rng.integers(0, 3)))
        after = " ".join(rng.choice(fillers, rng.integers(0, 2)))
        sentence = f"{name.capitalize()} lives in {place}."
        context = " ".join(p for p in (before, sentence, after) if p)
        impossible = i % 8 == 7
        asked = NAMES[(NAMES.index(name) + 1) % len(NAMES)] if impossible \
            else name
        x["id"].append(f"q{i}")
        x["question"].append(f"Where does {asked} live?")
        x["context"].append(context)
        y.append([] if impossible else [
            {"text": place,
             "answer_start": context.index(sentence) + len(sentence)
             - len(place) - 1}
        ])
    return x, y


def test_training_on_synthetic_squad(tokenizer, tiny_config):
    x, y = _synthetic_squad(40, seed=0)
    # One batch width (and batches of 8 features, which the 56 features
    # of this data divide into): few XLA compilations on JAX.
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=48, doc_stride=16, max_question_length=8,
        pad_to_multiple_of=48)
    features = pre.featurize(x["question"], x["context"], y)
    assert len(features["token_ids"]) > len(y)  # some contexts are windowed
    model = AlbertQuestionAnswerer(AlbertBackbone(**tiny_config),
                                   preprocessor=pre)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    held_out = _synthetic_squad(6, seed=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=8, epochs=4, verbose=0,
                            validation_data=held_out)
    # The span head never reads the pooled output; Keras' warning that the
    # pooler gets no gradient is expected and silenced.
    assert not [w for w in caught
                if "Gradients do not exist" in str(w.message)], caught
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert "val_loss" in history.history

    predictions = model.predict_answers(x, batch_size=8)
    assert len(predictions) == len(y)
    for p, context in zip(predictions, x["context"]):
        assert p["text"] and context[p["start"]:p["end"]] == p["text"]
    scores = model.task_metrics(x, y, batch_size=8)
    assert {"exact_match", "f1", "HasAns_exact", "NoAns_f1", "best_f1",
            "best_f1_thresh"} <= set(scores)
    assert all(isinstance(v, float) for v in scores.values())
    assert 0.0 <= scores["exact_match"] <= scores["f1"] <= 100.0
    # The threshold search includes the threshold used for `f1` (0).
    assert scores["best_f1"] >= scores["f1"] - 1e-9
    # An untrained model finds almost none of the places.
    assert scores["HasAns_f1"] > 30.0, scores
    evaluation = model.evaluate(*held_out, batch_size=8, verbose=0,
                                return_dict=True)
    assert evaluation["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-4)


def test_token_dicts_and_datasets_pass_through(tokenizer, tiny_config):
    x, y = _synthetic_squad(8, seed=1)
    # One batch of one width throughout: a single compilation on JAX.
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=32, max_question_length=8,
        pad_to_multiple_of=32)
    features = pre.featurize(x["question"], x["context"], y)
    first = range(8)
    token_dict = pre.pad(features, first)
    targets = pre.targets(features, first)
    assert token_dict["token_ids"].shape == (8, 32)
    model = AlbertQuestionAnswerer(AlbertBackbone(**tiny_config))
    model.compile()
    history = model.fit(
        token_dict, (targets["start_logits"], targets["end_logits"]),
        batch_size=8, epochs=1, verbose=0,
    )
    assert np.isfinite(history.history["loss"][0])
    subset = {key: [values[i] for i in first]
              for key, values in features.items() if key != "num_examples"}
    dataset = pre.make_dataset(subset, batch_size=8, shuffle=True, seed=0)
    (batch, batch_targets), = list(dataset)
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert sorted(map(tuple, np.asarray(batch[key]).tolist())) == sorted(
            map(tuple, token_dict[key].tolist()))
    assert sorted(np.asarray(batch_targets["end_logits"]).tolist()) == (
        sorted(targets["end_logits"].tolist()))
    model.fit(dataset, epochs=1, verbose=0)
    logits = model.predict(token_dict, batch_size=8, verbose=0)
    assert logits["start_logits"].shape == (8, 32)


# -- presets ---------------------------------------------------------------
def test_preset_round_trip_is_identical(tokenizer, tiny_config, tmp_path):
    pre = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=32, doc_stride=8, max_question_length=8,
        pad_to_multiple_of=4, length_buckets=[8, 16])
    model = AlbertQuestionAnswerer(AlbertBackbone(**tiny_config),
                                   preprocessor=pre)
    x, _ = _synthetic_squad(5, seed=2)
    x["id"].append("accents")
    x["question"].append("Where does RÉSUMÉ live?")
    x["context"].append("Ms.  RÉSUMÉ   lives  in   Café  NAÏVE\tCity.")
    token_dict = pre.pad(pre.featurize(x["question"], x["context"]))
    expected = model.predict(token_dict, verbose=0)
    answers = model.predict_answers(x, n_best=5)
    assert [a["id"] for a in answers] == x["id"]
    for answer, context in zip(answers, x["context"]):
        for candidate in [answer] + answer["n_best"]:
            assert context[candidate["start"]:candidate["end"]] == (
                candidate["text"])

    model.save_to_preset(str(tmp_path / "preset"))
    restored = AlbertQuestionAnswerer.from_preset(str(tmp_path / "preset"))
    got = restored.predict(token_dict, verbose=0)
    for key in ("start_logits", "end_logits"):
        np.testing.assert_array_equal(got[key], expected[key])
    loaded = restored.preprocessor
    assert isinstance(loaded, AlbertQuestionAnsweringPreprocessor)
    assert (loaded.sequence_length, loaded.doc_stride,
            loaded.max_question_length, loaded.pad_to_multiple_of,
            loaded.length_buckets) == (32, 8, 8, 4, (8, 16))
    assert loaded.tokenizer.proto == tokenizer.proto
    assert restored.predict_answers(x, n_best=5) == answers

    model.save(str(tmp_path / "model.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "model.keras"))
    assert reloaded.predict_answers(x, n_best=5) == answers
