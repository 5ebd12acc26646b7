"""SentencePiece pieces aligned to words and characters of the original text.

Token classification labels words and extractive QA answers with character
spans, but the model sees pieces of *normalised* text (whitespace collapsed,
accents stripped, lower-cased, LaTeX quotes replaced). `TokenAligner` runs
the same normalisation while remembering where every normalised character
came from, and asks the `sentencepiece` library for piece offsets, so each
piece maps back to an exact `text[start:end]` of the caller's string.

Pure Python (no TensorFlow): this runs in data preparation, once per
example, before batching.
"""

import dataclasses
import unicodedata
import weakref

SPIECE_UNDERLINE = "\u2581"


def split_words(text):
    """Character spans `[(start, end), ...]` of the whitespace-separated
    words of `text` (`str.isspace` semantics, like `str.split()`)."""
    spans = []
    start = None
    for i, char in enumerate(text):
        if char.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def normalize_with_origins(text, lowercase=True, strip_accents=True):
    """ALBERT's normalisation plus, for each output character, the index of
    the input character it came from.

    Produces exactly `normalize_text_python(text, ...)`, character for
    character.

    Returns:
        `(normalized, origins)` with `len(origins) == len(normalized)`.
    """
    normalized, origins, _ = _normalize_with_spans(text, lowercase,
                                                   strip_accents)
    return normalized, origins


def _normalize_with_spans(text, lowercase, strip_accents):
    """`(normalized, starts, ends)`: each output character came from
    `text[starts[i]:ends[i]]` (two characters for a LaTeX quote)."""
    out, origins, ends = [], [], []
    spans = split_words(text)
    for w, (start, end) in enumerate(spans):
        if w:
            out.append(" ")
            origins.append(start - 1)  # the whitespace before the word
            ends.append(start)
        i = start
        while i < end:
            if text[i:i + 2] in ("``", "''") and i + 1 < end:
                pieces, width = '"', 2
            else:
                pieces, width = text[i], 1
            if strip_accents:
                pieces = "".join(
                    c for c in unicodedata.normalize("NFKD", pieces)
                    if unicodedata.category(c) != "Mn"
                )
            if lowercase:
                pieces = pieces.lower()
            out.extend(pieces)
            origins.extend([i] * len(pieces))
            ends.extend([i + width] * len(pieces))
            i += width
    return "".join(out), origins, ends


@dataclasses.dataclass
class AlignedTokens:
    """Pieces of one text with their places in it.

    Attributes:
        token_ids: list of piece ids (no `[CLS]`/`[SEP]`).
        offsets: list of `(start, end)` character spans in the original
            text; `text[start:end]` is what the piece stands for (empty,
            `start == end`, for a lone `▁` word-start marker).
        word_ids: list of word indexes (into `words`) for each piece.
        words: `(start, end)` spans of the text's whitespace-separated words.
    """

    token_ids: list
    offsets: list
    word_ids: list
    words: list

    def first_pieces(self):
        """Index of the first piece of every word (`-1` if a word produced
        no piece, e.g. only characters the normaliser removes)."""
        first = [-1] * len(self.words)
        for i, w in enumerate(self.word_ids):
            if first[w] < 0:
                first[w] = i
        return first


class TokenAligner:
    """Tokenizes text like an `AlbertTokenizer` and keeps character offsets.

    Piece ids are identical to the tokenizer's (same SentencePiece model,
    same normalisation); offsets refer to the caller's original string.

    Args:
        tokenizer: an `AlbertTokenizer` (its SentencePiece model and
            `lowercase`/`strip_accents` settings are used).

    Example:
    ```python
    aligner = TokenAligner(tokenizer)
    tokens = aligner("Café  au lait")
    [text[s:e] for s, e in tokens.offsets]   # e.g. ['Café', 'au', 'la', 'it']
    ```
    """

    def __init__(self, tokenizer):
        import sentencepiece

        if tokenizer.proto is None:
            raise ValueError(
                "The tokenizer has no SentencePiece model loaded "
                "(`proto=None`); give it one before aligning tokens."
            )
        self.lowercase = tokenizer.lowercase
        self.strip_accents = tokenizer.strip_accents
        self._sp = sentencepiece.SentencePieceProcessor()
        self._sp.LoadFromSerializedProto(tokenizer.proto)

    def __call__(self, text):
        """Returns the `AlignedTokens` of one string."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        normalized, origins, ends = _normalize_with_spans(
            text, self.lowercase, self.strip_accents)
        words = split_words(text)
        word_of_char = [0] * len(text)
        for w, (start, end) in enumerate(words):
            for i in range(start, end):
                word_of_char[i] = w
        ids, offsets, word_ids = [], [], []
        if not normalized:
            return AlignedTokens(ids, offsets, word_ids, words)
        proto = self._sp.encode(normalized, return_type="proto")
        byte_to_char = _byte_to_char_index(normalized)
        for piece in proto.pieces:
            begin = byte_to_char[piece.begin]
            end = byte_to_char[piece.end]
            # The surface of "▁word" starts at the space before the word.
            while begin < end and normalized[begin] == " ":
                begin += 1
            if begin < end:
                start = origins[begin]
                stop = ends[end - 1]
                # A removed accent mark after the last character belongs
                # to it: extend over characters that normalise to nothing.
                while stop < len(text) and not text[stop].isspace() and (
                    _normalizes_to_nothing(text[stop], self.strip_accents)
                ):
                    stop += 1
            else:
                # A lone "▁": an empty span at the start of the next word.
                start = stop = origins[begin] if begin < len(origins) else (
                    len(text))
                if start < len(text) and text[start].isspace():
                    start = stop = start + 1
            ids.append(piece.id)
            offsets.append((start, stop))
            word_ids.append(word_of_char[min(start, len(text) - 1)])
        return AlignedTokens(ids, offsets, word_ids, words)


def textless_piece_ids(tokenizer):
    """Ids of the pieces that stand for no text: `[id of "▁"]` when the
    vocabulary has the lone word-start marker, else `[]`.

    SentencePiece emits a lone "▁" before a word whose first characters
    have no "▁"-prefixed piece; `TokenAligner` gives it an empty character
    span. An answer span may not end on one: pass these ids as
    `BestAnswerSpan(excluded_end_piece_ids=...)`.
    """
    piece_id = tokenizer.token_to_id(SPIECE_UNDERLINE)
    # `token_to_id` answers `<unk>`'s id for a piece not in the vocabulary.
    if tokenizer.id_to_token(piece_id) != SPIECE_UNDERLINE:
        return []
    return [int(piece_id)]


# One aligner per tokenizer, shared by every preprocessor that uses it.
_ALIGNERS = weakref.WeakKeyDictionary()


def aligner_for(tokenizer):
    """The `TokenAligner` of `tokenizer`, built once and rebuilt when its
    SentencePiece model or normalisation settings change (preset loading
    can give a tokenizer its model after the preprocessor exists)."""
    key = (id(tokenizer.proto), tokenizer.lowercase, tokenizer.strip_accents)
    cached = _ALIGNERS.get(tokenizer)
    if cached is None or cached[0] != key:
        cached = (key, TokenAligner(tokenizer))
        _ALIGNERS[tokenizer] = cached
    return cached[1]


def _normalizes_to_nothing(char, strip_accents):
    return strip_accents and all(
        unicodedata.category(c) == "Mn"
        for c in unicodedata.normalize("NFKD", char)
    )


def _byte_to_char_index(text):
    """Maps UTF-8 byte offsets of `text` (and its end) to character
    indexes."""
    index = []
    for i, char in enumerate(text):
        index.extend([i] * len(char.encode("utf-8")))
    index.append(len(text))
    return index
