"""Words, tags and entities around `AlbertTokenClassifier`'s logits.

The model predicts one row of logits per piece of each window; these
functions check tag lists, read sentences, stitch the windows' first-piece
logits back into one row per word, and decode words' tags into entities
with character offsets.
"""

import numpy as np

from keras_albert.metrics.sequence_labeling import get_entities
from keras_albert.utils.text_inputs import is_string
from keras_albert.utils.text_inputs import is_text_batch

OUTSIDE = "O"


def check_labels(labels):
    if isinstance(labels, (str, bytes, dict)) or not hasattr(
            labels, "__iter__"):
        raise ValueError(
            "`labels` must be a list of tag strings in id order, e.g. "
            f"['O', 'B-PER', 'I-PER']. Received: {labels!r}."
        )
    labels = list(labels)
    if not labels:
        raise ValueError("`labels` must name at least one tag.")
    for label in labels:
        if not isinstance(label, str) or not label:
            raise ValueError(
                f"Every label must be a non-empty string. Received: "
                f"{label!r} in {labels}."
            )
    duplicates = sorted({t for t in labels if labels.count(t) > 1})
    if duplicates:
        raise ValueError(f"`labels` repeats {duplicates}: {labels}.")
    return labels


def tag_lists(y):
    """Yields `(index, tags)` for every sentence's tags in `y`.

    A sentence's tags given as one string are rejected: iterating it would
    read its characters as tags. Lazy, so each sentence is checked in turn
    with the caller's checks of its tags.
    """
    for i, tags in enumerate(y):
        if isinstance(tags, str):
            raise ValueError(
                f"The tags of sentence {i} are one string ({tags!r}); "
                "give a list with one tag per word."
            )
        yield i, tags


def is_sentence(value):
    """A sentence: one string, or a list (or 1-D array) of words."""
    if is_string(value):
        return True
    if isinstance(value, np.ndarray):
        return value.ndim == 1 and (value.size == 0 or is_text_batch(value))
    # An empty word list is a (wordless) sentence.
    return isinstance(value, (list, tuple)) and (
        not value or is_text_batch(value))


def as_sentences(x):
    """`x` as a list of sentences (strings or word lists) when it is the
    task's natural input, else None (token dicts, datasets, arrays)."""
    if isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "USO":
        x = x.tolist()
    if isinstance(x, (list, tuple)) and x and all(map(is_sentence, x)):
        return list(x)
    return None


def stitch_word_logits(encoded, row_logits, num_labels):
    """Per sentence, a `(num_words, num_labels)` float32 array of each
    word's first-piece logits, read from the window the preprocessor
    assigned it; NaN rows for words that produced no piece.

    Args:
        encoded: the preprocessor's `EncodedSentence`s.
        row_logits: `{(sentence, window): (length, num_labels) logits}`.
        num_labels: int.
    """
    words = []
    for i, e in enumerate(encoded):
        out = np.full((len(e.word_positions), num_labels), np.nan, "float32")
        for k, place in enumerate(e.word_positions):
            if place is not None:
                out[k] = row_logits[i, place[0]][place[1]]
        words.append(out)
    return words


def word_tags(word_logits, labels, fallback_tag):
    """`(tags, scores)` of one sentence: each word's most probable tag and
    its softmax probability; `fallback_tag` and NaN for a word without
    logits."""
    tags, scores = [], []
    for row in word_logits:
        if np.isnan(row).any():
            tags.append(fallback_tag)
            scores.append(float("nan"))
            continue
        probs = np.exp(row - row.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        tags.append(labels[best])
        scores.append(float(probs[best]))
    return tags, scores


def decode_entities(encoded, tags, scores, scheme):
    """The entities of one sentence as dicts `{"label", "text", "start",
    "end", "score"}`, offsets indexing `encoded.text`, `score` the mean of
    the entity's words' tag probabilities."""
    spans = encoded.word_spans
    entities = []
    for entity in get_entities(tags, scheme=scheme):
        start = spans[entity.start][0]
        end = spans[entity.end - 1][1]
        entities.append({
            "label": entity.type,
            "text": encoded.text[start:end],
            "start": start,
            "end": end,
            "score": float(np.mean(scores[entity.start:entity.end])),
        })
    return entities
