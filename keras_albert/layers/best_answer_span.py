"""The best answer span of extractive question answering, defined once.

A span is a `(start, end)` pair of piece positions of one packed sequence
`[CLS] question [SEP] context [SEP] <pad>...`. The rule (why each part is
right for SQuAD-style data is in the comments of the functions):

- `answer_endpoints`: the positions a span may start or end on: context
  pieces (segment 1, not padding, not the closing `[SEP]`); an end also
  not one of `excluded_end_piece_ids` (the lone "▁" marker, which stands
  for no text);
- `allowed_answer_spans`: both ends are such positions and `start <= end <
  start + max_answer_length`;
- `span_score`: `start_logit + end_logit`;
- the best span is the allowed pair with the highest score, over *all*
  allowed pairs.

`BestAnswerSpan` evaluates it in the graph (the exported serving models);
`AlbertQuestionAnsweringPreprocessor.decode_answers` draws its candidates
from the same functions on NumPy arrays. The functions take the array
namespace as `xp`: `keras.ops` (default) or `numpy`.
"""

import keras
from keras import ops

from keras_albert.layers.arg_max import argmax_int32

# Score of a row without any allowed span (e.g. a context of lone "▁"
# markers only): far below any real logit sum.
NO_SPAN_SCORE = -1e9


def answer_endpoints(token_ids, segment_ids, padding_mask,
                     excluded_end_piece_ids=(), xp=ops):
    """The positions where an answer may start and where it may end.

    Args:
        token_ids: int `(batch, length)` piece ids.
        segment_ids: int `(batch, length)`; 1 marks the context and its
            closing `[SEP]`.
        padding_mask: `(batch, length)`; 0 marks padding.
        excluded_end_piece_ids: ints. Pieces that may not end an answer.
        xp: the array namespace, `keras.ops` or `numpy`.

    Returns:
        `(may_start, may_end)`, two `(batch, length)` bool arrays.
    """
    # The answer is a substring of the context: only context pieces can
    # hold it ([CLS] is the null answer, scored apart by the caller).
    context = xp.logical_and(xp.equal(segment_ids, 1),
                             xp.not_equal(padding_mask, 0))
    # The closing [SEP] is segment 1 too: a context piece has another
    # segment-1 position after it.
    after = xp.concatenate(
        [context[:, 1:], xp.zeros_like(context[:, :1])], axis=1)
    may_start = xp.logical_and(context, after)
    # A lone "▁" stands for no text: `TokenAligner` gives it an empty
    # character span at the start of the next word. Ending on it would add
    # the whitespace before that word to the answer, so it may not end
    # one. Starting on it is harmless (the text is that of the span
    # starting on the next piece) and stays allowed, as `decode_answers`
    # always did. A few ids: compare with each instead of gathering from a
    # vocabulary table, so the config stays small and the graph is plain
    # elementwise ops.
    may_end = may_start
    for piece_id in excluded_end_piece_ids:
        may_end = xp.logical_and(may_end,
                                 xp.not_equal(token_ids, int(piece_id)))
    return may_start, may_end


def allowed_answer_spans(start_positions, end_positions, start_ok, end_ok,
                         max_answer_length, xp=ops):
    """Whether the span from `start_positions` to `end_positions` may be an
    answer (all arguments broadcast against each other).

    Args:
        start_positions, end_positions: int positions.
        start_ok, end_ok: bool, `answer_endpoints`'s `may_start` and
            `may_end` at those positions.
        max_answer_length: int. Longest answer, in pieces.
        xp: the array namespace, `keras.ops` or `numpy`.
    """
    # SQuAD's evaluation scripts bound answers at `max_answer_length`
    # pieces (30): longer spans are almost never answers and would let two
    # unrelated high logits far apart win.
    span_length = end_positions - start_positions  # pieces - 1
    in_order = xp.logical_and(xp.greater_equal(span_length, 0),
                              xp.less(span_length, max_answer_length))
    return xp.logical_and(in_order, xp.logical_and(start_ok, end_ok))


def span_score(start_logits, end_logits):
    """The score of spans (broadcasting): `start_logit + end_logit`.

    The log of `p(start) * p(end)` up to the row's softmax normalisers, the
    score the model is trained for (independent start and end
    cross-entropies) and that SQuAD 2.0 compares with the null score
    (`[CLS]` as both ends).
    """
    return start_logits + end_logits


@keras.saving.register_keras_serializable(package="keras_albert")
class BestAnswerSpan(keras.layers.Layer):
    """The highest-scoring allowed answer span of each row, in the graph.

    Applies the rule of this module (`answer_endpoints`,
    `allowed_answer_spans`, `span_score`) to every `(start, end)` pair of a
    row at once and keeps the best. Every allowed pair competes, unlike the
    `n_best` starts x `n_best` ends pre-selection of the reference SQuAD
    scripts (which `decode_answers` keeps for its candidate list): that
    pre-selection only saves work in Python and can miss the best pair, or
    find no pair at all when the best starts follow the best ends; here the
    whole `(length, length)` score matrix costs one broadcast. Ties go to
    the smallest start, then the smallest end.

    Positions are piece indexes; map them to characters with the
    preprocessor's offsets. Also returns the null score (`[CLS]`, position
    0, as both ends) that SQuAD 2.0 compares against. A row without any
    allowed span gets `span_score` -1e9.

    Written with `keras.ops` (plus `tf.argmax` on TensorFlow), so it runs on
    every backend, under `jit_compile` and in TFLite builtins.

    Args:
        max_answer_length: int. Longest span, in pieces.
        excluded_end_piece_ids: list of ints. Pieces that may not end a
            span: the lone "▁" marker,
            `keras_albert.preprocessing.token_alignment.textless_piece_ids(
            tokenizer)`. Empty: no piece is excluded.
        **kwargs: Keras layer arguments (`name`, `dtype`, ...).

    Call arguments:
        start_logits, end_logits: float `(batch, length)`.
        token_ids, segment_ids, padding_mask: int `(batch, length)`, the
            model's inputs.

    Returns:
        A dict of `(batch,)` tensors: `span_start`, `span_end` (int32 piece
        positions), `span_score` and `null_score` (the logits' dtype).

    Example:
    ```python
    best_span = BestAnswerSpan(
        max_answer_length=30,
        excluded_end_piece_ids=textless_piece_ids(preprocessor.tokenizer))
    x = preprocessor({"question": [...], "context": [...]})
    logits = question_answerer.predict_on_batch(x)
    spans = best_span(logits["start_logits"], logits["end_logits"],
                      x["token_ids"], x["segment_ids"], x["padding_mask"])
    ```
    """

    def __init__(self, max_answer_length=30, excluded_end_piece_ids=(),
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_answer_length, bool) or int(max_answer_length) < 1:
            raise ValueError(
                "`max_answer_length` must be a positive integer. Received: "
                f"{max_answer_length!r}."
            )
        self.max_answer_length = int(max_answer_length)
        # A tuple: Keras would track a list attribute as layer state.
        self.excluded_end_piece_ids = tuple(
            int(i) for i in excluded_end_piece_ids)
        self.built = True

    def call(self, start_logits, end_logits, token_ids, segment_ids,
             padding_mask):
        may_start, may_end = answer_endpoints(
            token_ids, segment_ids, padding_mask,
            self.excluded_end_piece_ids)
        length = ops.shape(start_logits)[1]
        # New axes via expand_dims, not `x[:, None]`: TFLite has no builtin
        # for strided slices that add axes. Every operand is rank 3
        # `(batch or 1, start, end)`.
        positions = ops.expand_dims(ops.arange(length), 0)
        allowed = allowed_answer_spans(
            ops.expand_dims(positions, 2), ops.expand_dims(positions, 1),
            ops.expand_dims(may_start, 2), ops.expand_dims(may_end, 1),
            self.max_answer_length,
        )
        scores = span_score(ops.expand_dims(start_logits, 2),
                            ops.expand_dims(end_logits, 1))
        scores = ops.where(allowed, scores,
                           ops.full_like(scores, NO_SPAN_SCORE))
        flat = ops.reshape(scores, (ops.shape(scores)[0], -1))
        best = argmax_int32(flat)
        return {
            "span_start": ops.cast(best // length, "int32"),
            "span_end": ops.cast(best % length, "int32"),
            "span_score": ops.max(flat, axis=-1),
            "null_score": span_score(start_logits[:, 0], end_logits[:, 0]),
        }

    def compute_output_spec(self, start_logits, end_logits=None,
                            token_ids=None, segment_ids=None,
                            padding_mask=None):
        batch = start_logits.shape[:1]
        return {
            "span_start": keras.KerasTensor(batch, dtype="int32"),
            "span_end": keras.KerasTensor(batch, dtype="int32"),
            "span_score": keras.KerasTensor(batch, dtype=start_logits.dtype),
            "null_score": keras.KerasTensor(batch, dtype=start_logits.dtype),
        }

    def get_config(self):
        config = super().get_config()
        config.update({
            "max_answer_length": self.max_answer_length,
            "excluded_end_piece_ids": list(self.excluded_end_piece_ids),
        })
        return config
