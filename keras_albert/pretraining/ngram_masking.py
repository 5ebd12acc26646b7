"""ALBERT's n-gram, whole-word masked-LM selection, in NumPy.

ALBERT masks spans of up to three whole words, choosing the span length `n`
with probability proportional to `1/n`, until about 15% of the tokens of a
sequence are selected (never more than `max_predictions_per_seq`). Each
selected token is then replaced by `[MASK]` (80%), by a random token (10%)
or kept unchanged (10%). This module reproduces that recipe from token ids
alone, so it can run inside a `tf.data` pipeline (through
`tf.numpy_function`) and draw fresh masks every epoch.

Differences from Google's `create_pretraining_data.py`, all deliberate:
- the random generator is the one passed in (the reference mixes Python's
  `random` with NumPy's global generator, so it is not reproducible);
- random replacements are drawn from ordinary pieces only (the reference
  can insert `[CLS]`, `[SEP]` or `<pad>` as "random words");
- an n-gram never spans a special token such as the middle `[SEP]`, so a
  span is always contiguous text of one segment.
"""

import bisect
import string

import numpy as np

# Characters that may appear in a continuation piece. A piece made only of
# these and not starting with "▁" continues the previous word; anything else
# (digits, accented or non-Latin text) starts a word of its own, as in the
# reference implementation, which treats foreign characters as whole words.
_CONTINUATION_CHARS = frozenset(string.ascii_letters + string.punctuation)
_PUNCTUATION = frozenset(string.punctuation) | {"€", "£"}


def is_word_start_piece(piece):
    """Whether a SentencePiece piece starts a new word.

    A piece starts a word when it begins with the SentencePiece space marker
    "▁", is a special/control piece (`<pad>`, `[CLS]`, ...), is a single
    punctuation mark, or contains characters other than ASCII letters and
    punctuation. Everything else (e.g. "ing" after "▁walk") continues the
    previous word and is masked together with it.

    Args:
        piece: str. A vocabulary piece.

    Returns:
        bool.

    Example:
    ```python
    is_word_start_piece("▁walk")  # True
    is_word_start_piece("ing")    # False
    ```
    """
    if not piece:
        return True
    if piece.startswith(("▁", "<")) or (
        piece.startswith("[") and piece.endswith("]")
    ):
        return True
    if piece in _PUNCTUATION:
        return True
    return not all(c in _CONTINUATION_CHARS for c in piece)


def word_start_table(vocabulary):
    """Boolean array over ids: `True` where the piece starts a word.

    Args:
        vocabulary: list of str pieces, indexed by id.

    Returns:
        A `bool` NumPy array of shape `(len(vocabulary),)`.

    Example:
    ```python
    table = word_start_table(tokenizer.get_vocabulary())
    ```
    """
    return np.array([is_word_start_piece(p) for p in vocabulary], dtype=bool)


class NgramMasker:
    """Chooses and applies ALBERT's n-gram whole-word masks.

    Args:
        vocabulary_size: int. Size of the vocabulary.
        mask_token_id: int. Id of `[MASK]`.
        special_token_ids: ids that are never masked and never used as random
            replacements (padding, `[CLS]`, `[SEP]`, `[MASK]`, ...).
        word_start: optional bool array of shape `(vocabulary_size,)`, `True`
            for pieces that start a word (see `word_start_table`). `None`
            masks single pieces instead of whole words.
        masked_lm_prob: float. Fraction of a sequence's tokens (specials and
            padding included, as in the reference) to select.
        max_predictions_per_seq: int. Hard cap on selected tokens, and the
            width `P` of the prediction arrays.
        max_ngram: int. Longest span, in words. `P(n)` is proportional to
            `1/n` for `n` in `1..max_ngram`.
        mask_token_rate: float. Share of selected tokens set to `[MASK]`.
        random_token_rate: float. Share set to a random ordinary token; the
            rest is kept unchanged.
        pad_token_id: int. Padding id; padding is never selected and does not
            count towards the sequence length.
        no_replacement_token_ids: extra ids never used as random
            replacements that may still be selected for prediction (e.g.
            `<unk>`, which the reference masks like any other piece).

    Example:
    ```python
    masker = NgramMasker.from_tokenizer(tokenizer, max_predictions_per_seq=20)
    rng = np.random.default_rng(0)
    out = masker.mask_batch(token_ids, rng)  # token_ids: (batch, length)
    out["token_ids"], out["mask_positions"], out["mask_ids"], out["mask_weights"]
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        special_token_ids,
        word_start=None,
        masked_lm_prob=0.15,
        max_predictions_per_seq=20,
        max_ngram=3,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        pad_token_id=0,
        no_replacement_token_ids=(),
    ):
        if not 0.0 <= masked_lm_prob <= 1.0:
            raise ValueError(f"masked_lm_prob must be in [0, 1], got "
                             f"{masked_lm_prob}.")
        if max_ngram < 1:
            raise ValueError(f"max_ngram must be >= 1, got {max_ngram}.")
        if mask_token_rate < 0 or random_token_rate < 0 or (
            mask_token_rate + random_token_rate > 1.0 + 1e-9
        ):
            raise ValueError("mask_token_rate and random_token_rate must be "
                             "non-negative and sum to at most 1.")
        self.vocabulary_size = int(vocabulary_size)
        self.mask_token_id = int(mask_token_id)
        self.pad_token_id = int(pad_token_id)
        self.masked_lm_prob = float(masked_lm_prob)
        self.max_predictions_per_seq = int(max_predictions_per_seq)
        self.max_ngram = int(max_ngram)
        self.mask_token_rate = float(mask_token_rate)
        self.random_token_rate = float(random_token_rate)

        specials = {int(i) for i in special_token_ids}
        specials |= {self.mask_token_id, self.pad_token_id}
        self.special_token_ids = tuple(sorted(specials))
        # Lookup tables indexed by token id keep the per-example work to a
        # handful of vectorised NumPy calls.
        self._never_mask = np.zeros(self.vocabulary_size, dtype=bool)
        self._never_mask[list(specials)] = True
        no_random = self._never_mask.copy()
        no_random[[int(i) for i in no_replacement_token_ids]] = True
        self._random_ids = np.flatnonzero(~no_random).astype(np.int32)
        if len(self._random_ids) == 0:
            raise ValueError("No ordinary token ids to draw replacements "
                             "from.")
        if word_start is None:
            self._word_start = np.ones(self.vocabulary_size, dtype=bool)
            self.whole_word = False
        else:
            word_start = np.asarray(word_start, dtype=bool)
            if word_start.shape != (self.vocabulary_size,):
                raise ValueError(
                    f"word_start must have shape ({self.vocabulary_size},), "
                    f"got {word_start.shape}.")
            self._word_start = word_start
            self.whole_word = True
        # Cumulative P(n) for every possible cap on n (a span cannot run past
        # the end of a segment), so sampling is one `searchsorted`.
        inv = 1.0 / np.arange(1, self.max_ngram + 1)
        self._ngram_cdfs = [None] + [
            (np.cumsum(inv[:m]) / inv[:m].sum()).tolist()
            for m in range(1, self.max_ngram + 1)
        ]

    @classmethod
    def from_tokenizer(cls, tokenizer, whole_word=True, **kwargs):
        """Builds a masker from an `AlbertTokenizer`'s vocabulary and ids.

        Args:
            tokenizer: an `AlbertTokenizer` (or any tokenizer with
                `get_vocabulary()`, `mask_token_id`, `pad_token_id`,
                `cls_token_id` and `sep_token_id`).
            whole_word: bool. Mask whole words (default) or single pieces.
            **kwargs: forwarded to `NgramMasker`.

        Returns:
            An `NgramMasker`.

        Example:
        ```python
        masker = NgramMasker.from_tokenizer(tokenizer, max_ngram=3)
        ```
        """
        vocabulary = list(tokenizer.get_vocabulary())
        specials = [tokenizer.pad_token_id, tokenizer.cls_token_id,
                    tokenizer.sep_token_id, tokenizer.mask_token_id]
        unk = _unk_id(tokenizer, vocabulary)
        kwargs.setdefault("no_replacement_token_ids", () if unk is None else
                          (unk,))
        # Control pieces (e.g. <s>, </s> if a model has them) are specials
        # too; user-defined [CLS]/[SEP]/[MASK] are already listed.
        specials += [i for i, p in enumerate(vocabulary)
                     if p.startswith("<") and p.endswith(">")
                     and i != unk]
        return cls(
            vocabulary_size=len(vocabulary),
            mask_token_id=tokenizer.mask_token_id,
            special_token_ids=specials,
            word_start=word_start_table(vocabulary) if whole_word else None,
            pad_token_id=tokenizer.pad_token_id,
            **kwargs,
        )

    def num_to_predict(self, num_tokens):
        """How many tokens to select in a sequence of `num_tokens` tokens.

        `round(num_tokens * masked_lm_prob)`, at least 1, at most
        `max_predictions_per_seq` (the reference's rule).
        """
        if self.masked_lm_prob == 0 or num_tokens == 0:
            return 0
        return min(self.max_predictions_per_seq,
                   max(1, int(round(num_tokens * self.masked_lm_prob))))

    def _words(self, token_ids):
        """Start/end (exclusive) positions of maskable words, in order."""
        maskable = ~self._never_mask[token_ids]
        positions = np.flatnonzero(maskable)
        if len(positions) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        # A word also starts after any non-maskable token, so words never
        # straddle [SEP] even if a continuation piece follows it.
        after_gap = np.ones(len(positions), dtype=bool)
        after_gap[1:] = positions[1:] != positions[:-1] + 1
        starts = self._word_start[token_ids[positions]] | after_gap
        first = np.flatnonzero(starts)
        begins = positions[first]
        last = np.empty_like(first)
        last[:-1] = first[1:] - 1
        last[-1] = len(positions) - 1
        ends = positions[last] + 1
        return begins, ends

    def select_spans(self, token_ids, rng):
        """Chooses the n-grams to predict in one sequence.

        Args:
            token_ids: 1-D int array (may be padded with `pad_token_id`).
            rng: a `np.random.Generator`.

        Returns:
            A list of `(begin, end, n)` spans in selection order: positions
            `begin:end` (end exclusive) covering `n` whole words. Together
            they hold at most `num_to_predict(len)` tokens and never overlap.

        Example:
        ```python
        spans = masker.select_spans(ids, np.random.default_rng(0))
        ```
        """
        token_ids = np.asarray(token_ids)
        num_tokens = int(np.count_nonzero(token_ids != self.pad_token_id))
        budget = self.num_to_predict(num_tokens)
        begins, ends = self._words(token_ids)
        num_words = len(begins)
        if budget == 0 or num_words == 0:
            return []
        # How many consecutive words (capped at max_ngram) start at each word
        # without crossing a special token.
        adjacent = begins[1:] == ends[:-1]
        span = np.ones(num_words, dtype=np.int64)
        run = np.ones(num_words, dtype=bool)
        for k in range(1, self.max_ngram):
            nxt = np.zeros(num_words, dtype=bool)
            nxt[: num_words - k] = adjacent[k - 1:]
            run &= nxt
            span += run
        # Like the reference: visit words in random order, sample n ~ 1/n,
        # shrink n while the span would overshoot the budget, skip spans
        # that overlap an earlier one.
        order = rng.permutation(num_words).tolist()
        draws = rng.random(num_words).tolist()
        covered = np.zeros(len(token_ids), dtype=bool)
        count = 0
        cdfs = self._ngram_cdfs
        begins, ends, span = begins.tolist(), ends.tolist(), span.tolist()
        spans = []
        for w in order:
            if count >= budget:
                break
            n = min(span[w], bisect.bisect_right(cdfs[span[w]], draws[w]) + 1)
            begin = begins[w]
            while n > 0 and count + ends[w + n - 1] - begin > budget:
                n -= 1
            if n == 0:
                continue
            end = ends[w + n - 1]
            if covered[begin:end].any():
                continue
            covered[begin:end] = True
            count += end - begin
            spans.append((begin, end, n))
        return spans

    def select_positions(self, token_ids, rng):
        """Positions to predict in one sequence, sorted ascending.

        Args:
            token_ids: 1-D int array (may be padded with `pad_token_id`).
            rng: a `np.random.Generator`.

        Returns:
            A sorted 1-D `int64` array of at most `max_predictions_per_seq`
            positions, covering whole words only.
        """
        spans = self.select_spans(token_ids, rng)
        if not spans:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(
            [np.arange(b, e, dtype=np.int64) for b, e, _ in spans]))

    def _replace(self, token_ids, positions, rng):
        """Applies 80/10/10 replacement at `positions` (in place)."""
        draws = rng.random(len(positions))
        to_mask = draws < self.mask_token_rate
        to_random = (~to_mask) & (
            draws < self.mask_token_rate + self.random_token_rate)
        token_ids[positions[to_mask]] = self.mask_token_id
        n_random = int(to_random.sum())
        if n_random:
            token_ids[positions[to_random]] = self._random_ids[
                rng.integers(0, len(self._random_ids), n_random)]

    def mask(self, token_ids, rng):
        """Masks one sequence.

        Args:
            token_ids: 1-D int array.
            rng: a `np.random.Generator`.

        Returns:
            `(masked_token_ids, positions, labels)`: the corrupted copy, the
            sorted predicted positions and the original ids there.

        Example:
        ```python
        masked, positions, labels = masker.mask(ids, np.random.default_rng(0))
        ```
        """
        token_ids = np.asarray(token_ids)
        positions = self.select_positions(token_ids, rng)
        labels = token_ids[positions].copy()
        masked = token_ids.copy()
        self._replace(masked, positions, rng)
        return masked, positions, labels

    def mask_batch(self, token_ids, rng):
        """Masks a padded batch into fixed-width prediction arrays.

        Args:
            token_ids: int array `(batch, length)` padded with `pad_token_id`.
            rng: a `np.random.Generator` or an int seed.

        Returns:
            Dict of NumPy arrays: `token_ids` int32 `(batch, length)`
            (corrupted), `mask_positions` int32 `(batch, P)`, `mask_ids` int32
            `(batch, P)` (original ids, 0 in unused slots) and `mask_weights`
            float32 `(batch, P)` (1.0 for real predictions), where
            `P = max_predictions_per_seq`.

        Example:
        ```python
        out = masker.mask_batch(np.array([[2, 50, 61, 3, 70, 3, 0]]), 0)
        ```
        """
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        token_ids = np.asarray(token_ids)
        batch, _ = token_ids.shape
        width = self.max_predictions_per_seq
        masked = token_ids.astype(np.int32, copy=True)
        mask_positions = np.zeros((batch, width), dtype=np.int32)
        mask_ids = np.zeros((batch, width), dtype=np.int32)
        mask_weights = np.zeros((batch, width), dtype=np.float32)
        for i in range(batch):
            positions = self.select_positions(token_ids[i], rng)
            k = len(positions)
            mask_positions[i, :k] = positions
            mask_ids[i, :k] = token_ids[i, positions]
            mask_weights[i, :k] = 1.0
            self._replace(masked[i], positions, rng)
        return {
            "token_ids": masked,
            "mask_positions": mask_positions,
            "mask_ids": mask_ids,
            "mask_weights": mask_weights,
        }


def _unk_id(tokenizer, vocabulary):
    for attr in ("unk_token_id", "_unk_token_id"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value)
    if "<unk>" in vocabulary:
        return vocabulary.index("<unk>")
    return None
