"""Entity decoding and scores: hand-checked cases, then seqeval itself."""

import random

import pytest

from keras_albert.metrics import Entity
from keras_albert.metrics import entity_scores
from keras_albert.metrics import get_entities
from keras_albert.metrics import infer_scheme
from keras_albert.metrics import parse_tag
from keras_albert.metrics import token_accuracy


def test_iob2_entities():
    # B-PER opens PER, I-PER continues it, O closes it; B-LOC at the end is
    # a one-word entity closed by the end of the sentence.
    assert get_entities(["B-PER", "I-PER", "O", "B-LOC"]) == [
        Entity("PER", 0, 2), Entity("LOC", 3, 4)]
    # Two B- of one type in a row are two entities.
    assert get_entities(["B-PER", "B-PER", "I-PER"]) == [
        Entity("PER", 0, 1), Entity("PER", 1, 3)]
    assert get_entities(["O", "O"]) == []
    assert get_entities([]) == []


def test_lenient_and_strict_iob2():
    # Lenient (seqeval's default): an I- after O starts an entity.
    assert get_entities(["O", "I-PER", "I-PER", "O"]) == [
        Entity("PER", 1, 3)]
    # Strict IOB2 needs the B-: no entity.
    assert get_entities(["O", "I-PER", "I-PER", "O"], mode="strict") == []
    # A type change inside an entity: lenient closes PER and opens LOC at
    # the I-LOC; strict keeps the well-formed B-PER and drops the I-LOC,
    # which has no B-LOC.
    tags = ["B-PER", "I-LOC", "O"]
    assert get_entities(tags) == [Entity("PER", 0, 1), Entity("LOC", 1, 2)]
    assert get_entities(tags, mode="strict") == [Entity("PER", 0, 1)]


def test_iob1():
    # IOB1: I- opens entities; B- only separates two adjacent entities of
    # the same type. "I-PER I-PER | B-PER | O | I-LOC" is PER(0,2),
    # PER(2,3) and LOC(4,5), in both modes.
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    expected = [Entity("PER", 0, 2), Entity("PER", 2, 3), Entity("LOC", 4, 5)]
    assert get_entities(tags, scheme="IOB1") == expected
    assert get_entities(tags, scheme="IOB1", mode="strict") == expected
    # A B- right after O is not valid IOB1: strict drops it, lenient keeps
    # it as a one-word entity.
    assert get_entities(["O", "B-PER"], scheme="IOB1", mode="strict") == []
    assert get_entities(["O", "B-PER"], scheme="IOB1") == [
        Entity("PER", 1, 2)]


def test_iobes():
    tags = ["B-PER", "E-PER", "S-LOC", "B-ORG", "I-ORG", "E-ORG", "O"]
    # B..E spans, S is a single word.
    expected = [Entity("PER", 0, 2), Entity("LOC", 2, 3), Entity("ORG", 3, 6)]
    assert get_entities(tags, scheme="IOBES") == expected
    assert get_entities(tags, scheme="IOBES", mode="strict") == expected
    # An entity that never reaches its E-: strict drops it, lenient ends it
    # at the O.
    assert get_entities(["B-PER", "I-PER", "O"], scheme="IOBES",
                        mode="strict") == []
    assert get_entities(["B-PER", "I-PER", "O"], scheme="IOBES") == [
        Entity("PER", 0, 2)]
    # S- always closes: an I- after it opens a new entity (lenient).
    assert get_entities(["S-PER", "I-PER"], scheme="IOBES") == [
        Entity("PER", 0, 1), Entity("PER", 1, 2)]


def test_bad_tags_raise():
    with pytest.raises(ValueError, match="not valid in the IOB2 scheme"):
        get_entities(["S-PER"])
    with pytest.raises(ValueError, match="'PER' is not an entity tag"):
        get_entities(["PER"])
    with pytest.raises(ValueError, match="one sentence"):
        get_entities([["B-PER"], ["O"]])
    with pytest.raises(ValueError, match="Unknown tagging scheme"):
        get_entities(["O"], scheme="BIO")
    with pytest.raises(ValueError, match="Unknown mode"):
        get_entities(["O"], mode="loose")
    assert parse_tag("B-PER-X") == ("B", "PER-X")
    assert parse_tag("I") == ("I", "_")


def test_infer_scheme():
    assert infer_scheme(["O", "B-PER", "I-PER"]) == "IOB2"
    assert infer_scheme([["O"], ["S-PER"]]) == "IOBES"


def test_scores_with_partial_and_type_mismatches():
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["B-MISC", "O"]]
    scores = entity_scores(true, pred)
    # True: PER(0,2), LOC(3,4), ORG(0,1) -> 3. Predicted: PER(0,1) (only
    # part of the name), LOC(3,4), MISC(0,1) (right span, wrong type) -> 3.
    # Only LOC matches exactly: precision = recall = f1 = 1/3.
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)
    # Per type: LOC is perfect; PER was found once but wrongly; ORG was
    # never predicted (precision 0/0 -> 0) and MISC never true (recall 0/0
    # -> 0), seqeval's zero_division=0.
    assert scores["f1_LOC"] == 1.0
    assert scores["precision_PER"] == scores["recall_PER"] == 0.0
    assert scores["precision_ORG"] == scores["recall_ORG"] == 0.0
    assert scores["precision_MISC"] == scores["f1_MISC"] == 0.0
    assert sorted(k for k in scores if k.startswith("f1_")) == [
        "f1_LOC", "f1_MISC", "f1_ORG", "f1_PER"]
    # Words: sentence 1 gets 3 of 4 right (I-PER vs O is wrong), sentence
    # 2 gets 1 of 2 (B-ORG vs B-MISC): 4 / 6.
    assert token_accuracy(true, pred) == pytest.approx(4 / 6)


def test_precision_and_recall_differ():
    true = [["B-PER", "O", "B-LOC", "O"]]
    pred = [["B-PER", "O", "B-LOC", "B-ORG"]]
    scores = entity_scores(true, pred)
    # Both true entities found (recall 2/2) plus a spurious ORG (precision
    # 2/3); f1 = 2 * (2/3) * 1 / (2/3 + 1) = 0.8.
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == 1.0
    assert scores["f1"] == pytest.approx(0.8)
    assert scores["f1_PER"] == scores["f1_LOC"] == 1.0
    assert scores["f1_ORG"] == 0.0


def test_sentences_do_not_merge():
    # The I-PER opening sentence 2 is its own entity, not a continuation
    # of sentence 1's B-PER: predicting the same tags is a perfect score,
    # and predicting a B-PER there is too (same span, same type).
    true = [["O", "B-PER"], ["I-PER", "O"]]
    assert entity_scores(true, true)["f1"] == 1.0
    assert entity_scores(true, [["O", "B-PER"], ["B-PER", "O"]])["f1"] == 1.0


def test_strict_mode_changes_scores():
    true = [["B-PER", "I-PER"]]
    pred = [["I-PER", "I-PER"]]
    # Lenient: the prediction decodes to PER(0,2), exactly the truth.
    assert entity_scores(true, pred)["f1"] == 1.0
    # Strict IOB2: the prediction has no valid entity -> nothing right.
    assert entity_scores(true, pred, mode="strict")["f1"] == 0.0


def test_iobes_scores():
    true = [["S-PER", "O", "B-LOC", "E-LOC"]]
    pred = [["S-PER", "O", "S-LOC", "S-LOC"]]
    scores = entity_scores(true, pred, scheme="IOBES")
    # True: PER(0,1), LOC(2,4) -> 2. Predicted: PER(0,1), LOC(2,3),
    # LOC(3,4) -> 3 (the LOC was split in two). Only PER is right: recall
    # 1/2, precision 1/3.
    assert scores["recall"] == pytest.approx(1 / 2)
    assert scores["precision"] == pytest.approx(1 / 3)


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError, match="2 true and 1 predicted sentences"):
        entity_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="Sentence 0 has 2 true and 1"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="single string"):
        token_accuracy(["O"], ["O"])
    assert token_accuracy([], []) == 0.0


def _random_tags(rng, prefixes, length):
    tags = []
    for _ in range(length):
        prefix = rng.choice(prefixes)
        tags.append("O" if prefix == "O" else
                    f"{prefix}-{rng.choice(['PER', 'LOC', 'ORG'])}")
    return tags


@pytest.mark.parametrize("scheme,prefixes", [
    ("IOB2", "OOBII"), ("IOB1", "OOBII"), ("IOBES", "OOBIES"),
])
def test_agrees_with_seqeval(scheme, prefixes):
    seqeval = pytest.importorskip("seqeval")
    del seqeval
    from seqeval import metrics as sm
    from seqeval import scheme as ss
    from seqeval.metrics.sequence_labeling import get_entities as sq_entities

    rng = random.Random(0)
    true = [_random_tags(rng, prefixes, rng.randint(0, 12))
            for _ in range(60)]
    pred = [_random_tags(rng, prefixes, len(t)) for t in true]
    for tags in true:
        # seqeval's end index is inclusive.
        assert get_entities(tags, scheme) == [
            Entity(t, s, e + 1) for t, s, e in sq_entities(tags)]
    for mode in ("lenient", "strict"):
        extra = ({} if mode == "lenient" else
                 {"mode": "strict", "scheme": getattr(ss, scheme)})
        ours = entity_scores(true, pred, scheme=scheme, mode=mode)
        assert ours["precision"] == pytest.approx(
            sm.precision_score(true, pred, zero_division=0, **extra))
        assert ours["recall"] == pytest.approx(
            sm.recall_score(true, pred, zero_division=0, **extra))
        assert ours["f1"] == pytest.approx(
            sm.f1_score(true, pred, zero_division=0, **extra))
        report = sm.classification_report(true, pred, output_dict=True,
                                          zero_division=0, **extra)
        for type_ in ("PER", "LOC", "ORG"):
            if type_ in report:
                assert ours[f"f1_{type_}"] == pytest.approx(
                    report[type_]["f1-score"])
    assert token_accuracy(true, pred) == pytest.approx(
        sm.accuracy_score(true, pred))
