"""Entity-level scores for sequence labelling (NER), seqeval-compatible.

Pure Python, no dependency on `seqeval`, but the same conventions, so the
numbers match what papers and the CoNLL-2003 leaderboards report:

- `get_entities(tags, mode="lenient")` is seqeval's default decoder (and
  conlleval's): an `I-X` that does not continue an `X` entity starts one,
  a change of type ends one, and `B-`/`E-`/`S-` prefixes are honoured, so
  IOB1, IOB2 and IOBES tags all decode sensibly.
- `mode="strict"` is seqeval's `mode="strict"`: only spans that are valid
  under the named scheme count (an `I-X` without its `B-X` is dropped in
  IOB2, an IOBES entity needs its `E-`/`S-`).
- `entity_scores` counts an entity as correct only when type, first and
  last word all match, and micro-averages over all entities (seqeval's
  `precision_score`/`recall_score`/`f1_score`), with per-type scores.

Tags are `"O"`, `"<P>-<TYPE>"` with prefix `<P>` one of `B`, `I`, `E`, `S`,
or a bare prefix (type `"_"`, as in seqeval). Entities are
`Entity(type, start, end)` word spans with `end` exclusive (seqeval's own
`get_entities` returns an inclusive end).
"""

import collections

SCHEMES = ("IOB1", "IOB2", "IOBES")
MODES = ("lenient", "strict")
_ALLOWED_PREFIXES = {
    "IOB1": frozenset("BI"),
    "IOB2": frozenset("BI"),
    "IOBES": frozenset("BIES"),
}

Entity = collections.namedtuple("Entity", ["type", "start", "end"])
Entity.__doc__ = """A labelled span of words: `words[start:end]`."""


def parse_tag(tag):
    """Splits a tag into `(prefix, type)`: `"B-PER"` -> `("B", "PER")`,
    `"O"` -> `("O", None)`, a bare `"B"` -> `("B", "_")`.

    Raises:
        ValueError: for anything that is not an `O`/`B`/`I`/`E`/`S` tag.
    """
    if not isinstance(tag, str):
        raise ValueError(
            f"Tags must be strings such as 'B-PER' or 'O'. Received: {tag!r}."
        )
    if tag == "O":
        return "O", None
    if len(tag) == 1 and tag in "BIES":
        return tag, "_"
    if len(tag) >= 3 and tag[0] in "BIES" and tag[1] == "-":
        return tag[0], tag[2:]
    raise ValueError(
        f"{tag!r} is not an entity tag: expected 'O' or a prefix B-, I-, E- "
        "or S- followed by the entity type (e.g. 'B-PER')."
    )


def infer_scheme(tags):
    """`"IOBES"` when any tag has an `E-`/`S-` prefix, else `"IOB2"`
    (IOB1 decodes identically to IOB2 in lenient mode).

    Args:
        tags: an iterable of tags, or of lists of tags.
    """
    for tag in _flatten(tags):
        if parse_tag(tag)[0] in "ES":
            return "IOBES"
    return "IOB2"


def _flatten(tags):
    for item in tags:
        if isinstance(item, str):
            yield item
        else:
            yield from item


def _check_options(scheme, mode):
    if scheme not in SCHEMES:
        raise ValueError(
            f"Unknown tagging scheme {scheme!r}; use one of {SCHEMES}."
        )
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}; use one of {MODES}.")


def _parse_sentence(tags, scheme):
    if isinstance(tags, str) or not hasattr(tags, "__iter__"):
        raise ValueError(
            "Expected one sentence's tags, a list of strings. Received: "
            f"{tags!r}."
        )
    parsed = []
    allowed = _ALLOWED_PREFIXES[scheme]
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise ValueError(
                "Expected one sentence's tags, a list of strings; item "
                f"{i} is {tag!r}. For several sentences call this once per "
                "sentence."
            )
        prefix, type_ = parse_tag(tag)
        if prefix != "O" and prefix not in allowed:
            raise ValueError(
                f"Tag {tag!r} (position {i}) is not valid in the {scheme} "
                f"scheme, which only has the prefixes {sorted(allowed)} "
                "and 'O'."
            )
        parsed.append((prefix, type_))
    return parsed


def _lenient_entities(parsed):
    """seqeval's default `get_entities`, with an exclusive end."""
    entities = []
    prev_prefix, prev_type = "O", None
    begin = 0
    # A trailing "O" closes the last entity.
    for i, (prefix, type_) in enumerate(parsed + [("O", None)]):
        ends = (
            prev_prefix in ("E", "S")
            or (prev_prefix in ("B", "I") and prefix in ("B", "S", "O"))
            or (prev_prefix != "O" and prev_type != type_)
        )
        if ends:
            entities.append(Entity(prev_type, begin, i))
        starts = (
            prefix in ("B", "S")
            or (prev_prefix in ("E", "S", "O") and prefix in ("E", "I"))
            or (prefix != "O" and prev_type != type_)
        )
        if starts:
            begin = i
        prev_prefix, prev_type = prefix, type_
    return entities


# seqeval's strict-mode patterns: (previous prefixes, current prefixes,
# type relation) triples. "same"/"diff" compare the two tags' types.
_ANY = frozenset("OBIES")
_STRICT_PATTERNS = {
    "IOB2": {
        "start": [(_ANY, "B", "any")],
        "inside": [("B", "I", "same"), ("I", "I", "same")],
        "end": [("I", "O", "any"), ("I", "I", "diff"), ("I", "B", "any"),
                ("B", "O", "any"), ("B", "I", "diff"), ("B", "B", "any")],
    },
    "IOB1": {
        # In IOB1 an entity opens with I-; B- only separates two adjacent
        # entities of the same type.
        "start": [("O", "I", "any"), ("I", "I", "diff"), ("B", "I", "any"),
                  ("I", "B", "same"), ("B", "B", "same")],
        "inside": [("B", "I", "same"), ("I", "I", "same")],
        "end": [("I", "I", "diff"), ("I", "O", "any"), ("I", "B", "any"),
                ("B", "O", "any"), ("B", "I", "diff"), ("B", "B", "same")],
    },
    "IOBES": {
        "start": [(_ANY, "B", "any"), (_ANY, "S", "any")],
        "inside": [("B", "I", "same"), ("B", "E", "same"),
                   ("I", "I", "same"), ("I", "E", "same")],
        "end": [("S", _ANY, "any"), ("E", _ANY, "any")],
    },
}


def _matches(patterns, prev, cur):
    for prev_prefixes, cur_prefixes, relation in patterns:
        if prev[0] not in prev_prefixes or cur[0] not in cur_prefixes:
            continue
        if relation == "any" or (relation == "same") == (prev[1] == cur[1]):
            return True
    return False


def _strict_entities(parsed, scheme):
    """seqeval's `mode="strict"` decoder, with an exclusive end."""
    patterns = _STRICT_PATTERNS[scheme]
    outside = ("O", "_")  # seqeval's sentinel has type "_"
    tokens = [(p, t if t is not None else "_") for p, t in parsed]
    tokens.append(outside)
    entities = []
    prev = outside
    i = 0
    while i < len(tokens):
        if _matches(patterns["start"], prev, tokens[i]):
            # Walk over the tokens that continue the entity.
            end = i + 1
            while end < len(tokens) and _matches(
                    patterns["inside"], tokens[end - 1], tokens[end]):
                end += 1
            # The sentinel "O" never continues an entity, so `end` is a
            # real index; the span counts only if it closes properly.
            if _matches(patterns["end"], tokens[end - 1], tokens[end]):
                entities.append(Entity(tokens[i][1], i, end))
            i = end
        else:
            i += 1
        prev = tokens[i - 1]
    return entities


def get_entities(tags, scheme="IOB2", mode="lenient"):
    """The entities of one sentence's tags.

    Args:
        tags: list of tag strings, one per word.
        scheme: `"IOB2"` (`B-` opens every entity), `"IOB1"` (`B-` only
            between two adjacent entities of one type) or `"IOBES"` (also
            `E-` ends and `S-` single-word entities). Tags with prefixes
            the scheme lacks raise a ValueError.
        mode: `"lenient"` (seqeval's default: ill-formed sequences such as
            an `I-PER` after `O` still make entities) or `"strict"`
            (seqeval's strict mode: only well-formed entities count).

    Returns:
        A list of `Entity(type, start, end)`, `end` exclusive, in order.

    Example:
    ```python
    get_entities(["B-PER", "I-PER", "O", "I-LOC"])
    # [Entity(type='PER', start=0, end=2), Entity(type='LOC', start=3, end=4)]
    get_entities(["O", "I-LOC"], mode="strict")  # []
    ```
    """
    _check_options(scheme, mode)
    parsed = _parse_sentence(tags, scheme)
    if mode == "lenient":
        return _lenient_entities(parsed)
    return _strict_entities(parsed, scheme)


def _check_pairs(true_tags, pred_tags):
    if len(true_tags) != len(pred_tags):
        raise ValueError(
            f"Got {len(true_tags)} true and {len(pred_tags)} predicted "
            "sentences; they must pair up."
        )
    for i, (t, p) in enumerate(zip(true_tags, pred_tags)):
        if isinstance(t, str) or isinstance(p, str):
            raise ValueError(
                "Expected a list of sentences, each a list of tags. "
                f"Sentence {i} is a single string."
            )
        if len(t) != len(p):
            raise ValueError(
                f"Sentence {i} has {len(t)} true and {len(p)} predicted "
                "tags; they must be the same length."
            )


def _prf(correct, predicted, actual):
    # seqeval's zero_division=0: an empty denominator scores 0.
    precision = correct / predicted if predicted else 0.0
    recall = correct / actual if actual else 0.0
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision + recall else 0.0
    )
    return precision, recall, f1


def entity_scores(true_tags, pred_tags, scheme="IOB2", mode="lenient"):
    """Entity-level micro precision, recall and F1, overall and per type.

    An entity counts as found only when its type and both boundaries match
    a true entity exactly (CoNLL-2003's measure, seqeval's default).

    Args:
        true_tags: list of sentences, each a list of gold tags.
        pred_tags: list of sentences, each a list of predicted tags, the
            same lengths as `true_tags`.
        scheme: `"IOB1"`, `"IOB2"` or `"IOBES"`, see `get_entities`.
        mode: `"lenient"` or `"strict"`, see `get_entities`.

    Returns:
        A dict of floats: `"precision"`, `"recall"`, `"f1"`, and for every
        type seen in either input `"precision_<TYPE>"`, `"recall_<TYPE>"`,
        `"f1_<TYPE>"`.

    Example:
    ```python
    entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    # {'precision': 0.0, 'recall': 0.0, 'f1': 0.0, ...}: a partial match
    # is a miss.
    ```
    """
    _check_pairs(true_tags, pred_tags)
    true_set, pred_set = set(), set()
    for sentence, (t, p) in enumerate(zip(true_tags, pred_tags)):
        true_set.update(
            (sentence, e) for e in get_entities(t, scheme, mode))
        pred_set.update(
            (sentence, e) for e in get_entities(p, scheme, mode))
    correct = true_set & pred_set
    precision, recall, f1 = _prf(len(correct), len(pred_set), len(true_set))
    scores = {"precision": precision, "recall": recall, "f1": f1}
    types = sorted({e.type for _, e in true_set | pred_set})
    for type_ in types:
        def count(entities):
            return sum(1 for _, e in entities if e.type == type_)

        p, r, f = _prf(count(correct), count(pred_set), count(true_set))
        scores[f"precision_{type_}"] = p
        scores[f"recall_{type_}"] = r
        scores[f"f1_{type_}"] = f
    return scores


def token_accuracy(true_tags, pred_tags):
    """Fraction of words whose predicted tag equals the gold tag
    (seqeval's `accuracy_score`); 0.0 when there are no words."""
    _check_pairs(true_tags, pred_tags)
    total = sum(len(t) for t in true_tags)
    right = sum(
        a == b for t, p in zip(true_tags, pred_tags) for a, b in zip(t, p)
    )
    return right / total if total else 0.0
