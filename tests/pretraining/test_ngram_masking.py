"""N-gram whole-word masking: rates, ratios, spans, words, specials, caps."""

import numpy as np
import pytest

from keras_albert.pretraining.ngram_masking import NgramMasker
from keras_albert.pretraining.ngram_masking import is_word_start_piece
from keras_albert.pretraining.ngram_masking import word_start_table

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIALS = (PAD, CLS, SEP, MASK)
V = 1000


def _batch(n=200, length=128, seed=0, pad_from=None):
    """[CLS] A [SEP] B [SEP] rows of ordinary ids, optionally padded."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, V, size=(n, length)).astype(np.int32)
    ends = np.full(n, length) if pad_from is None else rng.integers(
        pad_from, length + 1, size=n)
    for i, end in enumerate(ends):
        mid = end // 2
        ids[i, 0], ids[i, mid], ids[i, end - 1] = CLS, SEP, SEP
        ids[i, end:] = PAD
    return ids


def _masker(word_start=None, **kwargs):
    kwargs.setdefault("max_predictions_per_seq", 40)
    return NgramMasker(V, MASK, SPECIALS, word_start=word_start,
                       no_replacement_token_ids=(UNK,), **kwargs)


def _word_start(seed=1):
    # About 35% of pieces continue a word, like a real SentencePiece vocab.
    return np.random.default_rng(seed).random(V) < 0.65


def test_word_start_pieces():
    assert is_word_start_piece("▁walk")
    assert not is_word_start_piece("ing")
    assert is_word_start_piece(".")
    assert is_word_start_piece("[CLS]") and is_word_start_piece("<pad>")
    assert is_word_start_piece("é")  # non-English pieces are whole words
    assert word_start_table(["▁a", "b", "12"]).tolist() == [True, False, True]


@pytest.mark.parametrize("whole_word", [False, True])
def test_masking_rate_is_fifteen_percent(whole_word):
    ids = _batch(pad_from=40)
    masker = _masker(_word_start() if whole_word else None)
    out = masker.mask_batch(ids, 0)
    selected = out["mask_weights"].sum()
    tokens = (ids != PAD).sum()
    assert 0.13 < selected / tokens < 0.16
    # Each row gets round(0.15 * length) unless whole words cannot fit.
    budgets = [masker.num_to_predict(n) for n in (ids != PAD).sum(1)]
    assert (out["mask_weights"].sum(1) <= budgets).all()
    assert np.mean(out["mask_weights"].sum(1) == budgets) > 0.8


def test_replacement_ratios_80_10_10():
    ids = _batch(n=600)
    out = _masker().mask_batch(ids, 1)
    rows, slots = np.nonzero(out["mask_weights"])
    positions = out["mask_positions"][rows, slots]
    labels = out["mask_ids"][rows, slots]
    new = out["token_ids"][rows, positions]
    assert (labels == ids[rows, positions]).all()
    n = len(labels)
    as_mask = np.mean(new == MASK)
    kept = np.mean(new == labels)
    random = np.mean((new != MASK) & (new != labels))
    # ~11k predictions: 3 sigma of a 10% share is under 1%.
    assert abs(as_mask - 0.8) < 0.015, as_mask
    assert abs(kept - 0.1) < 0.012, kept
    assert abs(random - 0.1) < 0.012, random
    assert n > 10_000
    # Random replacements are ordinary ids, never specials nor <unk>.
    assert not np.isin(new[(new != MASK)], list(SPECIALS) + [UNK]).any()


def test_ngram_lengths_follow_one_over_n():
    masker = _masker(max_ngram=3)
    ids = _batch(n=400, length=256)
    rng = np.random.default_rng(2)
    counts = np.zeros(4)
    for row in ids:
        for _, _, n in masker.select_spans(row, rng):
            counts[n] += 1
    share = counts[1:] / counts.sum()
    expected = np.array([1, 1 / 2, 1 / 3]) / (11 / 6)
    # Shrinking spans at the budget favours short ones a little.
    assert np.abs(share - expected).max() < 0.05, share
    assert share[0] > share[1] > share[2] > 0


def test_whole_words_only():
    word_start = _word_start()
    masker = _masker(word_start)
    ids = _batch(n=300, pad_from=30)
    out = masker.mask_batch(ids, 3)
    for row, positions, weights in zip(ids, out["mask_positions"],
                                       out["mask_weights"]):
        chosen = set(positions[weights > 0].tolist())
        # Walk the words of the row: all of a word is chosen, or none.
        word = []
        for p, t in enumerate(row.tolist() + [PAD]):
            special = t in SPECIALS
            if word and (special or word_start[t]):
                flags = {q in chosen for q in word}
                assert len(flags) == 1, (word, chosen)
                word = []
            if not special:
                word.append(p)


def test_specials_never_masked_and_cap():
    ids = _batch(n=100, pad_from=20)
    for cap in (1, 5):
        out = _masker(_word_start(), max_predictions_per_seq=cap).mask_batch(
            ids, 4)
        assert out["mask_positions"].shape == (100, cap)
        assert (out["mask_weights"].sum(1) <= cap).all()
        assert out["mask_weights"].sum(1).mean() > 0.9 * cap
    out = _masker(_word_start()).mask_batch(ids, 4)
    rows, slots = np.nonzero(out["mask_weights"])
    labels = out["mask_ids"][rows, slots]
    assert not np.isin(labels, SPECIALS).any()
    # Specials and padding come through untouched.
    special = np.isin(ids, SPECIALS)
    np.testing.assert_array_equal(out["token_ids"][special], ids[special])
    # Unused slots are zero with zero weight.
    assert (out["mask_ids"][out["mask_weights"] == 0] == 0).all()
    assert (out["mask_positions"][out["mask_weights"] == 0] == 0).all()


def test_deterministic_given_seed():
    ids = _batch(n=20)
    masker = _masker(_word_start())
    a, b = masker.mask_batch(ids, 7), masker.mask_batch(ids, 7)
    c = masker.mask_batch(ids, 8)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["mask_positions"], c["mask_positions"])


def test_short_and_empty_rows():
    masker = _masker()
    out = masker.mask_batch(np.array([[CLS, 9, SEP, 10, SEP, PAD],
                                      [CLS, SEP, SEP, PAD, PAD, PAD]]), 0)
    assert out["mask_weights"].sum(1).tolist() == [1, 0]
    assert _masker(masked_lm_prob=0.0).mask_batch(_batch(2), 0)[
        "mask_weights"].sum() == 0
