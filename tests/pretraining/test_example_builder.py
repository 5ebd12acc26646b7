"""Packing documents into sentence-order-prediction pairs."""

import numpy as np

from keras_albert.pretraining.example_builder import PretrainingExampleBuilder

CLS, SEP = 2, 3


def _document(num_sentences, rng, start=1000):
    """Sentences whose ids count up through the document, so the order of
    any two pieces of text can be read off their ids."""
    sentences, next_id = [], start
    for _ in range(num_sentences):
        n = int(rng.integers(3, 25))
        sentences.append(np.arange(next_id, next_id + n))
        next_id += n
    return sentences


def _segments(instance):
    ids = instance.token_ids
    seps = np.flatnonzero(ids == SEP)
    return ids[1:seps[0]], ids[seps[0] + 1:seps[1]]


def test_layout_and_full_length_packing():
    rng = np.random.default_rng(0)
    builder = PretrainingExampleBuilder(sequence_length=64,
                                        short_seq_prob=0.0, seed=0)
    for _ in range(20):
        instances = builder.build(_document(40, rng))
        assert len(instances) > 3
        for k, inst in enumerate(instances):
            ids, seg = inst.token_ids, inst.segment_ids
            assert ids.dtype == np.int32 and len(ids) == len(seg) <= 64
            assert ids[0] == CLS and ids[-1] == SEP
            assert np.count_nonzero(ids == SEP) == 2
            first_sep = int(np.flatnonzero(ids == SEP)[0])
            assert (seg[:first_sep + 1] == 0).all()
            assert (seg[first_sep + 1:] == 1).all()
            a, b = _segments(inst)
            assert len(a) >= 1 and len(b) >= 1
            # Chunks fill up to the target, so all but a document's last
            # example use the whole length.
            if k < len(instances) - 1:
                assert len(ids) == 64


def test_short_sequence_probability():
    rng = np.random.default_rng(1)
    builder = PretrainingExampleBuilder(sequence_length=128,
                                        short_seq_prob=0.1, seed=1)
    lengths = []
    for _ in range(40):
        lengths += [len(i.token_ids)
                    for i in builder.build(_document(60, rng))[:-1]]
    short = np.mean(np.array(lengths) < 128)
    assert 0.05 < short < 0.17, short
    always = PretrainingExampleBuilder(sequence_length=128,
                                       short_seq_prob=1.0, seed=1)
    lengths = [len(i.token_ids) for i in always.build(_document(60, rng))]
    assert np.mean(np.array(lengths) < 100) > 0.5


def test_sop_labels_balanced_and_really_swapped():
    rng = np.random.default_rng(2)
    builder = PretrainingExampleBuilder(sequence_length=48, seed=2)
    labels = []
    for d in range(150):
        for inst in builder.build(_document(30, rng, start=1000 + 10_000 * d)):
            a, b = _segments(inst)
            # Text inside a segment stays in document order, even when
            # truncated (tokens go from the ends only)...
            assert (np.diff(a) > 0).all() and (np.diff(b) > 0).all()
            # ...and the label says whether A came before B.
            assert inst.sop_label == int(a[0] > b[-1])
            # Consecutive text from one document: B continues A (or A
            # continues B when swapped) up to truncated tokens.
            assert a[0] // 10_000 == b[0] // 10_000
            labels.append(inst.sop_label)
    assert len(labels) > 1000
    assert 0.45 < np.mean(labels) < 0.55


def test_single_sentence_chunks_are_split_at_words():
    word_start = np.zeros(2000, dtype=bool)
    word_start[[1001, 1004]] = True  # words: 1000 | 1001-1003 | 1004-1009
    builder = PretrainingExampleBuilder(sequence_length=32, seed=0,
                                        word_start=word_start)
    for _ in range(20):
        (inst,) = builder.build([np.arange(1000, 1010)])
        a, b = _segments(inst)
        first, second = (b, a) if inst.sop_label else (a, b)
        assert second[0] in (1001, 1004)
        np.testing.assert_array_equal(np.concatenate([first, second]),
                                      np.arange(1000, 1010))
    # Nothing to pair in a one-token document.
    assert builder.build([np.array([1000])]) == []


def test_truncation_matches_reference_rule():
    builder = PretrainingExampleBuilder(sequence_length=13, seed=0)
    rng = np.random.default_rng(0)

    def reference(la, lb, budget):
        while la + lb > budget:
            if la > lb:
                la -= 1
            else:
                lb -= 1
        return la, lb

    for la in range(1, 30):
        for lb in range(1, 30):
            a, b = builder._truncate(np.arange(la), np.arange(lb), rng)
            assert (len(a), len(b)) == reference(la, lb, 10)
            # Trimmed from the ends only.
            assert (np.diff(a) == 1).all() and (np.diff(b) == 1).all()


def test_deterministic_given_seed():
    docs = [_document(30, np.random.default_rng(i)) for i in range(5)]

    def build(seed):
        builder = PretrainingExampleBuilder(sequence_length=40, seed=seed)
        return list(builder.build_many(docs))

    a, b, c = build(3), build(3), build(4)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.token_ids, y.token_ids)
        assert x.sop_label == y.sop_label
    assert [x.sop_label for x in a] != [x.sop_label for x in c] or any(
        not np.array_equal(x.token_ids, y.token_ids) for x, y in zip(a, c))
