"""Packs tokenized documents into ALBERT sentence-order-prediction pairs.

Follows the recipe of Google's `create_pretraining_data.py`: sentences of a
document are accumulated until they reach a target length (usually
`sequence_length - 3`, shorter with probability `short_seq_prob`), the chunk
is cut at a random sentence boundary into segments A and B, and the two are
swapped with probability 0.5 (sentence-order label 1). Over-long pairs are
trimmed from the longer side, at a random end, one token at a time.

Deliberate differences from the reference:
- the short target length is drawn per example, not once per document, so
  `short_seq_prob` really is the share of short inputs (the paper's "10% of
  inputs shorter");
- a chunk holding a single sentence is split inside that sentence (at a word
  boundary when possible) instead of borrowing segment B from a random other
  document: a random B is next-sentence prediction, which ALBERT replaced,
  and labelling it "swapped" (as the reference does) is noise for SOP;
- each file starts a new document even without a trailing blank line.
"""

from typing import NamedTuple

import numpy as np


class PretrainingInstance(NamedTuple):
    """One unmasked pretraining pair.

    Attributes:
        token_ids: int32 array `[CLS] A [SEP] B [SEP]`, unpadded.
        segment_ids: int32 array, 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`.
        sop_label: int. 0 = segments in document order, 1 = swapped.
    """

    token_ids: np.ndarray
    segment_ids: np.ndarray
    sop_label: int


class PretrainingExampleBuilder:
    """Builds `PretrainingInstance`s from tokenized documents.

    Args:
        sequence_length: int. Final length `L` (with `[CLS]` and two `[SEP]`),
            so A and B together hold at most `L - 3` tokens.
        cls_token_id: int. Id of `[CLS]`.
        sep_token_id: int. Id of `[SEP]`.
        short_seq_prob: float. Probability that an example targets a random
            length in `[2, L - 3]` instead of `L - 3`.
        swap_prob: float. Probability of swapping A and B (label 1).
        word_start: optional bool array over token ids (see
            `ngram_masking.word_start_table`); used to cut single-sentence
            chunks between words rather than inside one.
        seed: optional int seed for the builder's own generator (used when
            `build` gets no `rng`).

    Example:
    ```python
    builder = PretrainingExampleBuilder(sequence_length=128, seed=0)
    document = [np.array([50, 51, 52]), np.array([60, 61])]  # sentences
    for instance in builder.build(document):
        instance.token_ids, instance.segment_ids, instance.sop_label
    ```
    """

    def __init__(
        self,
        sequence_length=128,
        cls_token_id=2,
        sep_token_id=3,
        short_seq_prob=0.1,
        swap_prob=0.5,
        word_start=None,
        seed=None,
    ):
        if sequence_length < 5:
            raise ValueError("sequence_length must be at least 5 ([CLS] A "
                             f"[SEP] B [SEP]), got {sequence_length}.")
        self.sequence_length = int(sequence_length)
        self.cls_token_id = int(cls_token_id)
        self.sep_token_id = int(sep_token_id)
        self.short_seq_prob = float(short_seq_prob)
        self.swap_prob = float(swap_prob)
        self.word_start = (None if word_start is None
                           else np.asarray(word_start, dtype=bool))
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs):
        """Builder using an `AlbertTokenizer`'s `[CLS]`/`[SEP]` ids and
        word boundaries.

        Example:
        ```python
        builder = PretrainingExampleBuilder.from_tokenizer(
            tokenizer, sequence_length=128, seed=0)
        ```
        """
        from keras_albert.pretraining.ngram_masking import word_start_table

        kwargs.setdefault("word_start",
                          word_start_table(tokenizer.get_vocabulary()))
        return cls(cls_token_id=tokenizer.cls_token_id,
                   sep_token_id=tokenizer.sep_token_id, **kwargs)

    @property
    def max_num_tokens(self):
        """Room for A and B: `sequence_length - 3`."""
        return self.sequence_length - 3

    def _target_length(self, rng):
        if rng.random() < self.short_seq_prob:
            # Inclusive range [2, max_num_tokens], like the reference.
            return int(rng.integers(2, self.max_num_tokens + 1))
        return self.max_num_tokens

    def _split_sentence(self, sentence, rng):
        """Cuts one sentence in two, preferring a word boundary."""
        cuts = np.arange(1, len(sentence))
        if self.word_start is not None and len(cuts):
            at_word = cuts[self.word_start[sentence[1:]]]
            if len(at_word):
                cuts = at_word
        cut = int(cuts[rng.integers(0, len(cuts))])
        return sentence[:cut], sentence[cut:]

    def _truncate(self, a, b, rng):
        """Trims the pair to `max_num_tokens` like the reference.

        The reference removes one token at a time from the longer segment
        (B on ties), from the front or back with equal odds. The counts per
        segment are deterministic, and the front/back split of `r` removals is
        Binomial(r, 0.5), so this computes the same distribution in O(1).
        """
        excess = len(a) + len(b) - self.max_num_tokens
        if excess <= 0:
            return a, b
        cut_a = cut_b = 0
        la, lb = len(a), len(b)
        if la > lb:
            d = min(excess, la - lb)
            cut_a += d
        else:
            d = min(excess, lb - la)
            cut_b += d
        excess -= d
        # Once equal, removals alternate starting with B.
        cut_b += (excess + 1) // 2
        cut_a += excess // 2

        def trim(tokens, r):
            if r == 0:
                return tokens
            front = int(rng.binomial(r, 0.5))
            return tokens[front: len(tokens) - (r - front)]

        return trim(a, cut_a), trim(b, cut_b)

    def _instance(self, a, b, swapped):
        la, lb = len(a), len(b)
        token_ids = np.empty(la + lb + 3, dtype=np.int32)
        token_ids[0] = self.cls_token_id
        token_ids[1:la + 1] = a
        token_ids[la + 1] = self.sep_token_id
        token_ids[la + 2:la + 2 + lb] = b
        token_ids[-1] = self.sep_token_id
        segment_ids = np.zeros(la + lb + 3, dtype=np.int32)
        segment_ids[la + 2:] = 1
        return PretrainingInstance(token_ids, segment_ids, int(swapped))

    def build(self, document, rng=None):
        """Instances from one document.

        Args:
            document: list of 1-D int arrays, one per sentence, in order.
            rng: optional `np.random.Generator`; defaults to the builder's.

        Returns:
            A list of `PretrainingInstance`.
        """
        rng = self._rng if rng is None else rng
        sentences = [np.asarray(s, dtype=np.int32) for s in document]
        sentences = [s for s in sentences if len(s)]
        instances = []
        chunk, length = [], 0
        target = self._target_length(rng)
        for i, sentence in enumerate(sentences):
            chunk.append(sentence)
            length += len(sentence)
            if i < len(sentences) - 1 and length < target:
                continue
            if len(chunk) >= 2:
                # Inclusive [1, len(chunk) - 1]: A gets at least one
                # sentence and B at least one.
                a_end = int(rng.integers(1, len(chunk)))
                a = np.concatenate(chunk[:a_end])
                b = np.concatenate(chunk[a_end:])
            elif len(chunk[0]) >= 2:
                a, b = self._split_sentence(chunk[0], rng)
            else:
                a = b = None  # a lone one-token sentence makes no pair
            if a is not None:
                swapped = rng.random() < self.swap_prob
                if swapped:
                    a, b = b, a
                a, b = self._truncate(a, b, rng)
                instances.append(self._instance(a, b, swapped))
            chunk, length = [], 0
            target = self._target_length(rng)
        return instances

    def build_many(self, documents, rng=None):
        """Yields instances from an iterable of tokenized documents.

        Example:
        ```python
        instances = list(builder.build_many(tokenized_documents))
        ```
        """
        rng = self._rng if rng is None else rng
        for document in documents:
            yield from self.build(document, rng)
