"""`BestAnswerSpan`: one answer-span rule for the graph and for
`decode_answers`."""

import keras
import numpy as np
import pytest

from keras_albert.layers import BestAnswerSpan
from keras_albert.layers.best_answer_span import NO_SPAN_SCORE
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    AlbertQuestionAnsweringPreprocessor,
)
from keras_albert.preprocessing.token_alignment import SPIECE_UNDERLINE
from keras_albert.preprocessing.token_alignment import textless_piece_ids

FILLER = "The quick brown fox jumps over the lazy dog. "
CONTEXTS = [
    FILLER * 3
    + "Café, naïve and résumé have accents that may be stripped.",
    "Numbers like 1, 2 and 3 appear in text too. " + FILLER,
    "Keras runs the same layers on TensorFlow, JAX and PyTorch.",
    "A lite BERT shares its parameters across all layers. " * 4,
]
QUESTIONS = [
    "Which words have accents?",
    "Numbers?",
    "What does Keras run on, and which frameworks are supported today?",
    "What does a lite BERT share across all of its many layers?",
]
# (sequence_length, doc_stride, max_question_length): short windows, long
# ones, long questions cut to half the room.
SETTINGS = [(24, 5, 6), (40, 12, 16), (64, 128, 64)]
MAX_ANSWER_LENGTHS = [1, 2, 5, 30]


@pytest.fixture(scope="module")
def tokenizer(spm_path):
    from keras_albert import AlbertTokenizer

    return AlbertTokenizer(proto=spm_path)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _one_window(features, f):
    """Feature `f` alone, as `featurize` would give it for one example."""
    single = {key: [features[key][f]]
              for key in ("token_ids", "segment_ids", "offsets", "window")}
    single["example_index"] = [0]
    single["num_examples"] = 1
    return single


def _brute_force(start, end, token_ids, segment_ids, padding_mask,
                 max_answer_length, excluded_end):
    """The rule written out pair by pair: the best `(score, i, j)`."""
    context = [p for p in range(len(token_ids))
               if segment_ids[p] == 1 and padding_mask[p]]
    context = context[:-1]  # the closing [SEP]
    best = None
    for i in context:
        for j in context:
            if not 0 <= j - i < max_answer_length:
                continue
            if token_ids[j] in excluded_end:
                continue
            score = float(start[i]) + float(end[j])
            if best is None or score > best[0]:
                best = (score, i, j)
    return best


def test_lone_markers_are_the_pieces_without_text(tokenizer):
    (marker,) = textless_piece_ids(tokenizer)
    assert tokenizer.id_to_token(marker) == SPIECE_UNDERLINE
    pre = AlbertQuestionAnsweringPreprocessor(tokenizer, sequence_length=64)
    features = pre.featurize(QUESTIONS, CONTEXTS)
    seen = 0
    for ids, offsets in zip(features["token_ids"], features["offsets"]):
        for piece, offset in zip(ids, offsets):
            if offset is None:
                continue
            assert (piece == marker) == (offset[0] == offset[1])
            seen += piece == marker
    assert seen > 10


def test_no_marker_in_the_vocabulary_excludes_nothing():
    class Vocabulary:
        def token_to_id(self, token):
            return 1  # <unk>

        def id_to_token(self, piece_id):
            return "<unk>"

    assert textless_piece_ids(Vocabulary()) == []


def test_matches_decode_answers_on_random_logits(tokenizer):
    (marker,) = textless_piece_ids(tokenizer)
    checked = marker_rule_decided = 0
    for setting, (length, stride, question_length) in enumerate(SETTINGS):
        pre = AlbertQuestionAnsweringPreprocessor(
            tokenizer, sequence_length=length, doc_stride=stride,
            max_question_length=question_length, pad_to_multiple_of=8)
        features = pre.featurize(QUESTIONS, CONTEXTS)
        batch = pre.pad(features)
        assert (batch["padding_mask"] == 0).any()  # some rows are padded
        rows, width = batch["token_ids"].shape
        for max_answer_length in MAX_ANSWER_LENGTHS:
            layer = BestAnswerSpan(max_answer_length,
                                   excluded_end_piece_ids=[marker])
            for seed in range(3):
                rng = np.random.default_rng([setting, max_answer_length,
                                             seed])
                # Padding gets logits too: they must be ignored.
                start = rng.normal(size=(rows, width)).astype("float32")
                end = rng.normal(size=(rows, width)).astype("float32")
                out = {k: _np(v) for k, v in layer(
                    start, end, batch["token_ids"], batch["segment_ids"],
                    batch["padding_mask"]).items()}
                for f in range(rows):
                    n = len(features["token_ids"][f])
                    offsets = features["offsets"][f]
                    score, i, j = _brute_force(
                        start[f], end[f], batch["token_ids"][f],
                        batch["segment_ids"][f], batch["padding_mask"][f],
                        max_answer_length, {marker})
                    assert (out["span_start"][f], out["span_end"][f]) == (
                        i, j)
                    np.testing.assert_allclose(out["span_score"][f], score,
                                               rtol=1e-6)
                    np.testing.assert_allclose(
                        out["null_score"][f], start[f, 0] + end[f, 0],
                        rtol=1e-6)
                    # `n_best` >= the window: no pre-selection, so the best
                    # candidate is the best allowed span.
                    decoded = pre.decode_answers(
                        _one_window(features, f), [CONTEXTS[
                            features["example_index"][f]]],
                        [start[f, :n]], [end[f, :n]], n_best=width,
                        max_answer_length=max_answer_length)[0]
                    best = decoded["n_best"][0]
                    assert (best["start"], best["end"]) == (
                        offsets[i][0], offsets[j][1])
                    assert decoded["start"] == best["start"]
                    np.testing.assert_allclose(best["score"],
                                               out["span_score"][f],
                                               rtol=1e-6)
                    np.testing.assert_allclose(decoded["null_score"],
                                               out["null_score"][f],
                                               rtol=1e-6)
                    checked += 1
                    marker_rule_decided += _brute_force(
                        start[f], end[f], batch["token_ids"][f],
                        batch["segment_ids"][f], batch["padding_mask"][f],
                        max_answer_length, set())[1:] != (i, j)
    assert checked > 200
    # The lone-marker rule was exercised: without it, other spans would
    # have won in many rows.
    assert marker_rule_decided > 10


def test_the_marker_rule_and_the_length_limit():
    # [CLS] q [SEP] a ▁ b c [SEP] pad
    marker = 7
    ids = np.array([[2, 9, 3, 10, marker, 11, 12, 3, 0]], "int32")
    segments = np.array([[0, 0, 0, 1, 1, 1, 1, 1, 0]], "int32")
    mask = np.array([[1, 1, 1, 1, 1, 1, 1, 1, 0]], "int32")
    start = np.full((1, 9), -5.0, "float32")
    end = np.full((1, 9), -5.0, "float32")
    start[0, 4] = 3.0  # a span may start on the marker ...
    end[0, 4] = 4.0  # ... but not end on it
    end[0, 6] = 1.0
    end[0, 7] = end[0, 8] = 9.0  # the closing [SEP] and padding
    start[0, 1] = end[0, 1] = 9.0  # the question
    out = BestAnswerSpan(5, excluded_end_piece_ids=[marker])(
        start, end, ids, segments, mask)
    assert (int(out["span_start"][0]), int(out["span_end"][0])) == (4, 6)
    np.testing.assert_allclose(_np(out["span_score"]), [4.0])
    # Without the exclusion the marker may end the span.
    out = BestAnswerSpan(5)(start, end, ids, segments, mask)
    assert (int(out["span_start"][0]), int(out["span_end"][0])) == (4, 4)
    # Too short for (4, 6): (4, 5) is the best left.
    out = BestAnswerSpan(2, excluded_end_piece_ids=[marker])(
        start, end, ids, segments, mask)
    assert (int(out["span_start"][0]), int(out["span_end"][0])) == (4, 5)
    np.testing.assert_allclose(_np(out["span_score"]), [-2.0])


def test_a_row_without_context_has_no_span():
    ids = np.array([[2, 9, 3, 3]], "int32")
    segments = np.array([[0, 0, 0, 1]], "int32")  # only the closing [SEP]
    mask = np.ones((1, 4), "int32")
    logits = np.zeros((1, 4), "float32")
    out = BestAnswerSpan()(logits, logits, ids, segments, mask)
    assert float(_np(out["span_score"])[0]) == NO_SPAN_SCORE


def test_config_and_validation():
    layer = BestAnswerSpan(7, excluded_end_piece_ids=[5, 9], name="span")
    config = layer.get_config()
    assert config["max_answer_length"] == 7
    assert config["excluded_end_piece_ids"] == [5, 9]
    clone = BestAnswerSpan.from_config(config)
    assert clone.get_config() == config
    with pytest.raises(ValueError, match="max_answer_length"):
        BestAnswerSpan(0)


def _functional(layer):
    inputs = {
        "start_logits": keras.Input((None,), dtype="float32",
                                    name="start_logits"),
        "end_logits": keras.Input((None,), dtype="float32",
                                  name="end_logits"),
    }
    for name in ("token_ids", "segment_ids", "padding_mask"):
        inputs[name] = keras.Input((None,), dtype="int32", name=name)
    outputs = layer(inputs["start_logits"], inputs["end_logits"],
                    inputs["token_ids"], inputs["segment_ids"],
                    inputs["padding_mask"])
    return keras.Model(inputs, outputs)


def _random_batch(seed, rows=4, length=16, marker=7):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 30, (rows, length)).astype("int32")
    ids[:, 0], ids[:, 4] = 2, 3
    ids[rng.random((rows, length)) < 0.2] = marker
    ids[:, 5] = 8  # every row has a span: (5, 5)
    segments = np.zeros((rows, length), "int32")
    segments[:, 5:] = 1
    mask = np.ones((rows, length), "int32")
    mask[-1, length - 3:] = 0
    segments[-1, length - 3:] = 0
    return {
        "start_logits": rng.normal(size=(rows, length)).astype("float32"),
        "end_logits": rng.normal(size=(rows, length)).astype("float32"),
        "token_ids": ids, "segment_ids": segments, "padding_mask": mask,
    }


def test_in_a_functional_model_under_jit_and_saved(tmp_path):
    layer = BestAnswerSpan(3, excluded_end_piece_ids=[7])
    model = _functional(layer)
    # torch's jit (torch.compile) is not what Keras uses by default there.
    model.compile(jit_compile=keras.backend.backend() != "torch")
    for seed, length in ((0, 16), (1, 10)):
        x = _random_batch(seed, length=length)
        want = {k: _np(v) for k, v in layer(
            x["start_logits"], x["end_logits"], x["token_ids"],
            x["segment_ids"], x["padding_mask"]).items()}
        got = model.predict(x, batch_size=2, verbose=0)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-6,
                                       err_msg=key)
        for row in range(4):
            score, i, j = _brute_force(
                x["start_logits"][row], x["end_logits"][row],
                x["token_ids"][row], x["segment_ids"][row],
                x["padding_mask"][row], 3, {7})
            assert (got["span_start"][row], got["span_end"][row]) == (i, j)
            np.testing.assert_allclose(got["span_score"][row], score,
                                       rtol=1e-6)
    path = str(tmp_path / "span.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[-1].get_config() == layer.get_config()
    again = loaded.predict(x, verbose=0)
    for key in want:
        np.testing.assert_allclose(again[key], got[key], rtol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="TFLite conversion runs from TensorFlow")
def test_converts_to_tflite_builtins():
    import tensorflow as tf

    layer = BestAnswerSpan(3, excluded_end_piece_ids=[7])
    spec = {name: tf.TensorSpec((None, None), dtype, name=name)
            for name, dtype in (("start_logits", tf.float32),
                                ("end_logits", tf.float32),
                                ("token_ids", tf.int32),
                                ("segment_ids", tf.int32),
                                ("padding_mask", tf.int32))}

    @tf.function(input_signature=[spec])
    def serve(x):
        return layer(x["start_logits"], x["end_logits"], x["token_ids"],
                     x["segment_ids"], x["padding_mask"])

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:  # the LiteRT runtime devices ship, else TensorFlow's own
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    interpreter = Interpreter(model_content=converter.convert())
    runner = interpreter.get_signature_runner()
    for seed, length in ((0, 16), (1, 11)):
        x = _random_batch(seed, length=length)
        got = runner(**x)
        want = {k: _np(v) for k, v in serve(x).items()}
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-6,
                                       err_msg=key)
