"""Question + context features for extractive question answering (SQuAD).

A context longer than the model's window is cut into overlapping windows
(`doc_stride`), each packed as `[CLS] question [SEP] window [SEP]`; every
context piece keeps its character span in the original context, so a
predicted piece span maps back to an exact substring. The same layer turns
the model's start/end logits of all windows back into answers.

Tokenization and alignment run in Python (`TokenAligner`), once per
example, before batching; batches are padded to their longest feature.
"""

import keras
import numpy as np

from keras_albert.layers.best_answer_span import allowed_answer_spans
from keras_albert.layers.best_answer_span import answer_endpoints
from keras_albert.layers.best_answer_span import span_score
from keras_albert.preprocessing.albert_preprocessing_layer import (
    AlbertPreprocessingLayer,
    set_padding,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.token_alignment import aligner_for
from keras_albert.preprocessing.token_alignment import textless_piece_ids
from keras_albert.preprocessing.windows import sliding_windows

# Model output names; the targets of a feature batch are keyed by them so
# Keras matches each target to its logits.
START_LOGITS = "start_logits"
END_LOGITS = "end_logits"
FEATURE_KEYS = ("token_ids", "segment_ids", "padding_mask")


def _positive_int(name, value, minimum=1):
    is_int = isinstance(value, (int, np.integer)) and not isinstance(
        value, bool
    )
    if not is_int or value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. Received: {value!r}."
        )
    return int(value)


def _answer_list(answers, index):
    """One example's gold answers as a list of dicts (`[]`: no answer)."""
    if answers is None:
        return []
    if isinstance(answers, dict):
        answers = [answers]
    if not isinstance(answers, (list, tuple)):
        raise ValueError(
            f"Answers of example {index} must be a list of "
            "`{'text': str, 'answer_start': int}` dicts (an empty list for "
            f"no answer). Received: {type(answers).__name__}."
        )
    for answer in answers:
        if not isinstance(answer, dict) or not {
            "text", "answer_start"
        } <= set(answer):
            raise ValueError(
                f"Answers of example {index} must be dicts with 'text' and "
                f"'answer_start'. Received: {answer!r}."
            )
    return list(answers)


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertQuestionAnsweringPreprocessor(AlbertPreprocessingLayer):
    """Packs SQuAD-style questions and contexts into ALBERT features.

    Each example becomes one or more features `[CLS] question [SEP]
    window [SEP]` (segment ids 0 for `[CLS] question [SEP]`, 1 for the
    rest). The question keeps at most `max_question_length` pieces, and at
    most half of `sequence_length - 3`, so the context keeps room. A
    context that does not fit is split into windows of the remaining room
    whose starts are `doc_stride` pieces apart (the convention of Google's
    `run_squad.py`), so consecutive windows overlap and every piece appears
    in at least one window.

    With answers, every feature gets the sequence positions of the first
    and last piece of the (first) gold answer, or `0, 0` (the `[CLS]`
    position) when the question has no answer or the answer does not lie
    entirely inside that window: the standard SQuAD 2.0 convention.

    `featurize` returns per-feature lists (token ids, the character span of
    every context piece, the example each feature came from, positions);
    `pad` turns any selection of them into a batch padded to its longest
    feature; `decode_answers` turns start/end logits back into answer
    strings. Calling the layer on `{"question": [...], "context": [...]}`
    (and answers as `y`) does all of it at once and returns the padded
    token dict (and targets keyed `"start_logits"`/`"end_logits"`).

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Maximum feature length, specials included.
        doc_stride: int. Pieces between the starts of consecutive context
            windows.
        max_question_length: int. Question pieces kept (the rest is cut;
            see above).
        pad_to_multiple_of: int. With `length_buckets=None`, round a
            batch's length up to a multiple of this (fewer distinct shapes
            to compile); 1 pads to the exact longest feature.
        length_buckets: `"auto"`, None or a list of increasing widths (at
            most `sequence_length`): a batch is padded to the smallest
            that holds its longest feature (see `AlbertPreprocessor`).

    Example:
    ```python
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    preprocessor = AlbertQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=384, doc_stride=128)
    x = {"question": ["Where does Ann live?"],
         "context": ["Ann lives in Oslo."]}
    y = [[{"text": "Oslo", "answer_start": 13}]]
    token_dict, targets = preprocessor(x, y)

    features = preprocessor.featurize(x["question"], x["context"])
    preprocessor.decode_answers(features, x["context"], starts, ends)
    ```
    """

    config_arguments = ("doc_stride", "max_question_length")

    def __init__(
        self,
        tokenizer,
        sequence_length=384,
        doc_stride=128,
        max_question_length=64,
        pad_to_multiple_of=8,
        length_buckets="auto",
        **kwargs,
    ):
        super().__init__(tokenizer, **kwargs)
        # Stricter than the shared checks (ints only, not int-likes), with
        # messages of their own.
        self.sequence_length = _positive_int(
            "sequence_length", sequence_length, minimum=4
        )
        self.doc_stride = _positive_int("doc_stride", doc_stride)
        self.max_question_length = _positive_int(
            "max_question_length", max_question_length
        )
        set_padding(
            self, pad_to_multiple_of, length_buckets,
            check_multiple=lambda value: _positive_int(
                "pad_to_multiple_of", 1 if value is None else value),
        )

    def _question_budget(self):
        """Question pieces kept: `max_question_length`, but never more
        than half of what the specials leave, so a short `sequence_length`
        (e.g. set by `from_preset(..., sequence_length=n)`, which leaves
        `max_question_length` alone) still has room for the context."""
        # Re-checked here: `from_preset` sets it after construction.
        _positive_int("sequence_length", self.sequence_length, minimum=4)
        return min(self.max_question_length,
                   (self.sequence_length - 3) // 2)

    def _token_aligner(self):
        if self.tokenizer is None:
            raise ValueError(
                "AlbertQuestionAnsweringPreprocessor has no tokenizer."
            )
        return aligner_for(self.tokenizer)

    # -- features ----------------------------------------------------------
    @staticmethod
    def _answer_pieces(index, context, offsets, answers):
        """`(first, last)` context-piece indexes of the first gold answer,
        or None for a question without an answer."""
        if not answers:
            return None
        answer = answers[0]
        text, begin = answer["text"], answer["answer_start"]
        if not isinstance(text, str) or isinstance(begin, bool) or (
            not isinstance(begin, (int, np.integer))
        ):
            raise ValueError(
                f"Answer of example {index} must have a str 'text' and an "
                f"int 'answer_start'. Received: {answer!r}."
            )
        end = int(begin) + len(text)
        if begin < 0 or context[begin:end] != text:
            raise ValueError(
                f"Answer {text!r} of example {index} is not at character "
                f"{begin} of its context (found "
                f"{context[max(begin, 0):max(end, 0)]!r})."
            )
        covered = [
            i for i, (s, e) in enumerate(offsets) if s < end and e > begin
        ]
        if not covered:
            raise ValueError(
                f"Answer {text!r} of example {index} covers no token of its "
                "context (only whitespace or characters the tokenizer drops)."
            )
        return covered[0], covered[-1]

    def featurize(self, questions, contexts, answers=None):
        """Tokenizes, windows and labels examples.

        Args:
            questions: list of question strings.
            contexts: list of context strings, one per question.
            answers: optional list, one entry per question, of gold answers
                `[{"text", "answer_start"}, ...]` (`[]`: no answer, SQuAD
                2.0). Only the first answer is used as the target.

        Returns:
            A dict of per-feature lists: `token_ids`, `segment_ids`,
            `offsets` (for every position, the `(start, end)` character span
            of a context piece in its context, None elsewhere),
            `example_index`, `window` (the `(start, end)` range of context
            pieces the feature holds) and, with answers, `start_positions`
            and `end_positions`; plus `num_examples`.
        """
        question_budget = self._question_budget()
        questions, contexts = list(questions), list(contexts)
        if len(questions) != len(contexts):
            raise ValueError(
                f"Got {len(questions)} questions but {len(contexts)} "
                "contexts; there must be one context per question."
            )
        if answers is not None:
            answers = list(answers)
            if len(answers) != len(questions):
                raise ValueError(
                    f"Got {len(answers)} answer lists for {len(questions)} "
                    "questions; give one list per question ([] for none)."
                )
        aligner = self._token_aligner()
        cls_id = self.tokenizer.cls_token_id
        sep_id = self.tokenizer.sep_token_id
        features = {
            "token_ids": [], "segment_ids": [], "offsets": [],
            "example_index": [], "window": [],
        }
        if answers is not None:
            features["start_positions"] = []
            features["end_positions"] = []
        # SQuAD asks several questions about each paragraph: align each
        # distinct context once.
        aligned_contexts = {}
        for index, (question, context) in enumerate(zip(questions,
                                                        contexts)):
            for name, text in (("question", question), ("context", context)):
                if not isinstance(text, str):
                    raise ValueError(
                        f"The {name} of example {index} must be a str. "
                        f"Received: {type(text).__name__}."
                    )
            question_ids = aligner(question).token_ids[:question_budget]
            if context not in aligned_contexts:
                aligned_contexts[context] = aligner(context)
            pieces = aligned_contexts[context]
            if not pieces.token_ids:
                raise ValueError(
                    f"The context of example {index} has no tokens (it is "
                    "empty or only whitespace)."
                )
            span = None
            if answers is not None:
                span = self._answer_pieces(
                    index, context, pieces.offsets,
                    _answer_list(answers[index], index),
                )
            context_start = len(question_ids) + 2
            room = self.sequence_length - context_start - 1
            for start, end in sliding_windows(len(pieces.token_ids), room,
                                              self.doc_stride):
                window_ids = pieces.token_ids[start:end]
                features["token_ids"].append(
                    [cls_id] + question_ids + [sep_id] + window_ids + [sep_id]
                )
                features["segment_ids"].append(
                    [0] * context_start + [1] * (len(window_ids) + 1)
                )
                features["offsets"].append(
                    [None] * context_start
                    + [tuple(o) for o in pieces.offsets[start:end]] + [None]
                )
                features["example_index"].append(index)
                features["window"].append((start, end))
                if answers is None:
                    continue
                if span is not None and start <= span[0] and span[1] < end:
                    first = span[0] - start + context_start
                    last = span[1] - start + context_start
                else:
                    first = last = 0
                features["start_positions"].append(first)
                features["end_positions"].append(last)
        features["num_examples"] = len(questions)
        return features

    def pad(self, features, indices=None):
        """Pads the features at `indices` (all by default) into a batch.

        Returns `{"token_ids", "segment_ids", "padding_mask"}`, int32 numpy
        arrays of shape `(len(indices), L)`, `L` the width the longest
        selected feature is padded to (`padded_width`; at most
        `sequence_length`, unless a feature is longer).
        """
        if indices is None:
            indices = range(len(features["token_ids"]))
        indices = list(indices)
        lengths = [len(features["token_ids"][i]) for i in indices]
        width = self.padded_width(max(lengths, default=0))
        batch = {
            key: np.zeros((len(indices), width), "int32")
            for key in FEATURE_KEYS
        }
        batch["token_ids"][:] = self.tokenizer.pad_token_id
        for row, (i, n) in enumerate(zip(indices, lengths)):
            batch["token_ids"][row, :n] = features["token_ids"][i]
            batch["segment_ids"][row, :n] = features["segment_ids"][i]
            batch["padding_mask"][row, :n] = 1
        return batch

    @staticmethod
    def targets(features, indices=None):
        """Start/end positions of the features at `indices`, keyed by the
        model's output names (`"start_logits"`, `"end_logits"`)."""
        if "start_positions" not in features:
            raise ValueError(
                "These features were built without answers; pass `answers` "
                "to `featurize` to get training targets."
            )
        if indices is None:
            indices = range(len(features["start_positions"]))
        indices = list(indices)
        return {
            START_LOGITS: np.asarray(
                [features["start_positions"][i] for i in indices], "int32"
            ),
            END_LOGITS: np.asarray(
                [features["end_positions"][i] for i in indices], "int32"
            ),
        }

    def make_dataset(self, features, batch_size=32, shuffle=False,
                     seed=None, bucket_by_length=False,
                     tokens_per_batch=None):
        """A `tf.data.Dataset` of padded feature batches (with targets when
        the features have answers), each padded to its own width
        (`pad`).

        Args:
            features: the output of `featurize`.
            batch_size: int. Features per batch.
            shuffle: bool. Reshuffle the features every epoch.
            seed: optional int seed for the shuffling.
            bucket_by_length: bool. Batch features of similar lengths
                together (less padding): with `shuffle`, batches of similar
                lengths in a new random order every epoch; without, longest
                features first.
            tokens_per_batch: optional int, without `shuffle`: as many
                features per batch as keep `rows * width` within it
                (`batch_size` is then ignored).
        """
        import tensorflow as tf

        batch_size = _positive_int("batch_size", batch_size)
        lengths = [len(ids) for ids in features["token_ids"]]
        if not lengths:
            raise ValueError("No features to make a dataset of.")
        batches = LengthBatches(
            lengths, batch_size, shuffle=shuffle, by_length=bucket_by_length,
            tokens_per_batch=tokens_per_batch,
            padded_width=self.padded_width, seed=seed)
        has_targets = "start_positions" in features

        def make_batch(indices):
            x = self.pad(features, indices)
            return (x, self.targets(features, indices)) if has_targets else x

        matrix = tf.TensorSpec((None, None), tf.int32)
        signature = {key: matrix for key in FEATURE_KEYS}
        if has_targets:
            vector = tf.TensorSpec((None,), tf.int32)
            signature = (signature, {START_LOGITS: vector,
                                     END_LOGITS: vector})
        return batches.dataset(make_batch, signature)

    # -- the layer ---------------------------------------------------------
    def call(self, x, y=None, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                "AlbertQuestionAnsweringPreprocessor does not take sample "
                "weights: an example may turn into several features."
            )
        questions, contexts = split_question_context(x)
        features = self.featurize(questions, contexts, y)
        batch = self.pad(features)
        if y is None:
            return batch
        return batch, self.targets(features)

    # -- answers -----------------------------------------------------------
    def decode_answers(self, features, contexts, start_logits, end_logits,
                       n_best=20, max_answer_length=30,
                       null_score_diff_threshold=0.0, version_2=False):
        """Turns per-feature start/end logits into one answer per example.

        Candidate spans are the spans of a window that
        `keras_albert.layers.best_answer_span` allows (both ends on context
        pieces, the end not on a lone "▁", `start <= end < start +
        max_answer_length`) among the `n_best` best start and `n_best` best
        end positions of the window (the pre-selection of the reference
        SQuAD scripts; with `n_best` at least the window's length, a
        window's best candidate is `BestAnswerSpan`'s span). A span's score
        is `start_logit + end_logit` and the same character span seen in
        several windows keeps its best score. With `version_2`, the null
        answer scores `start_logits[0] + end_logits[0]` (`[CLS]`, lowest
        over the windows) and wins when it beats the best span by more than
        `null_score_diff_threshold`.

        Args:
            features: the output of `featurize`.
            contexts: the context strings `featurize` got.
            start_logits, end_logits: per-feature logits, a list of vectors
                or a `(num_features, L)` array; positions past a feature's
                length are ignored.
            n_best: int. Candidates kept per window and in `n_best`.
            max_answer_length: int. Longest answer, in pieces.
            null_score_diff_threshold: float. See above.
            version_2: bool. Allow the null answer (SQuAD 2.0).

        Returns:
            One dict per example: `text` (an exact substring of the context,
            `""` for no answer), `start`/`end` (character offsets, None for
            no answer), `score`, `null_score` (`[CLS]` score) and `n_best`
            (the best `n_best` spans, plus the null answer with
            `version_2`: dicts with `text`, `start`, `end`, `score`, best
            first).
        """
        n_best = _positive_int("n_best", n_best)
        max_answer_length = _positive_int("max_answer_length",
                                          max_answer_length)
        num_features = len(features["token_ids"])
        if len(start_logits) != num_features or len(end_logits) != (
            num_features
        ):
            raise ValueError(
                f"Got {len(start_logits)} start and {len(end_logits)} end "
                f"logit rows for {num_features} features."
            )
        contexts = list(contexts)
        if len(contexts) != features["num_examples"]:
            raise ValueError(
                f"Got {len(contexts)} contexts for features of "
                f"{features['num_examples']} examples."
            )
        excluded_end_piece_ids = (
            () if self.tokenizer is None
            else textless_piece_ids(self.tokenizer)
        )
        by_example = [[] for _ in contexts]
        for f, index in enumerate(features["example_index"]):
            by_example[index].append(f)
        results = []
        for index, feature_ids in enumerate(by_example):
            context = contexts[index]
            spans = {}
            null_score = float("inf")
            for f in feature_ids:
                offsets = features["offsets"][f]
                length = len(offsets)
                starts = np.asarray(start_logits[f], "float64")[:length]
                ends = np.asarray(end_logits[f], "float64")[:length]
                if len(starts) < length or len(ends) < length:
                    raise ValueError(
                        f"Feature {f} has {length} positions but only "
                        f"{min(len(starts), len(ends))} logits."
                    )
                null_score = min(null_score, starts[0] + ends[0])
                token_ids = np.asarray([features["token_ids"][f]])
                may_start, may_end = answer_endpoints(
                    token_ids, np.asarray([features["segment_ids"][f]]),
                    np.ones_like(token_ids), excluded_end_piece_ids, xp=np,
                )
                # Rank only the positions a span may start (end) on, so
                # `n_best` real candidates are kept per window.
                start_positions = np.flatnonzero(may_start[0])
                end_positions = np.flatnonzero(may_end[0])
                best_starts = start_positions[np.argsort(
                    -starts[start_positions], kind="stable")[:n_best]]
                best_ends = end_positions[np.argsort(
                    -ends[end_positions], kind="stable")[:n_best]]
                allowed = allowed_answer_spans(
                    best_starts[:, None], best_ends[None, :],
                    may_start[0, best_starts][:, None],
                    may_end[0, best_ends][None, :],
                    max_answer_length, xp=np,
                )
                scores = span_score(starts[best_starts][:, None],
                                    ends[best_ends][None, :])
                for a, b in zip(*np.nonzero(allowed)):
                    key = (offsets[best_starts[a]][0],
                           offsets[best_ends[b]][1])
                    score = float(scores[a, b])
                    if score > spans.get(key, -np.inf):
                        spans[key] = score
            ranked = sorted(spans.items(),
                            key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
            candidates = [
                {"text": context[s:e], "start": s, "end": e, "score": score}
                for (s, e), score in ranked[:n_best]
            ]
            null = {"text": "", "start": None, "end": None,
                    "score": float(null_score)}
            best = candidates[0] if candidates else None
            if best is None or (
                version_2
                and null_score - best["score"] > null_score_diff_threshold
            ):
                answer = null
            else:
                answer = best
            if version_2:
                # The null entry comes on top of the `n_best` spans, so it
                # never hides the best span (the threshold search needs it).
                candidates = sorted(candidates + [null],
                                    key=lambda c: -c["score"])
            results.append(dict(answer, null_score=float(null_score),
                                n_best=candidates))
        return results


def split_question_context(x):
    """`(questions, contexts)` lists from `{"question": ..., "context":
    ...}` (lists, numpy arrays or single strings)."""
    if not isinstance(x, dict) or not {"question", "context"} <= set(x):
        raise ValueError(
            "Question answering inputs must be a dict with 'question' and "
            "'context' (what `load_squad` returns). Received: "
            + (f"a dict with keys {sorted(x)}" if isinstance(x, dict)
               else type(x).__name__)
            + "."
        )
    out = []
    for key in ("question", "context"):
        values = x[key]
        if isinstance(values, (str, bytes)):
            values = [values]
        values = [
            v.decode("utf-8") if isinstance(v, bytes) else v
            for v in (values.tolist() if isinstance(values, np.ndarray)
                      else list(values))
        ]
        bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
        if bad:
            raise ValueError(
                f"'{key}' must hold strings; entry {bad[0]} is "
                f"{type(values[bad[0]]).__name__}."
            )
        out.append(values)
    return out[0], out[1]
