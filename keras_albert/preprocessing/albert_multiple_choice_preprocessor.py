"""Packs (article, question, options) into ALBERT multiple-choice inputs."""

import keras

from keras_albert.preprocessing.albert_preprocessing_layer import (
    AlbertPreprocessingLayer,
    check_sequence_length,
    check_truncate,
    set_padding,
)

try:
    import tensorflow as tf
    import tensorflow_text as tf_text
except ImportError:
    tf = None
    tf_text = None

TRUNCATION_STRATEGIES = ("article_first", "round_robin")
REQUIRED_KEYS = ("article", "question", "options")


def question_with_option(question, option):
    """RACE's question/option text, as TF ops (elementwise, same shapes).

    A question with a blank (`"_"`) gets every blank filled by the option
    (cloze questions such as "The boy went to _ ."); any other question is
    followed by a space and the option. This is what Google's ALBERT RACE
    code (`race_utils.py`) feeds the model.
    """
    pieces = tf.strings.split(question, "_")
    # Put the option after every piece but the last: p0 opt p1 opt ... pk.
    rows = pieces.value_rowids()
    position = tf.range(tf.size(rows, out_type=rows.dtype)) - tf.gather(
        pieces.row_starts(), rows
    )
    is_last = position == tf.gather(pieces.row_lengths(), rows) - 1
    filled = tf.where(
        is_last,
        pieces.flat_values,
        tf.strings.join([pieces.flat_values, tf.gather(option, rows)]),
    )
    filled = tf.strings.reduce_join(pieces.with_flat_values(filled), axis=1)
    has_blank = pieces.row_lengths() > 1
    appended = tf.strings.join([question, option], separator=" ")
    return tf.where(has_blank, filled, appended)


def _slice_rows(ids, start, stop):
    """Row `i` of ragged `ids` cut to positions `[start[i], stop[i])`.

    Works on the flat values: `tf.ragged.boolean_mask` and ragged ranges
    would add validation ops that make every `tf.data` iterator several
    times slower to start.
    """
    rows = ids.value_rowids()
    position = tf.range(tf.size(rows, out_type=rows.dtype)) - tf.gather(
        ids.row_starts(), rows
    )
    keep = (position >= tf.gather(start, rows)) & (
        position < tf.gather(stop, rows)
    )
    lengths = ids.row_lengths()
    kept = tf.maximum(
        tf.minimum(stop, lengths) - tf.minimum(start, lengths), 0
    )
    return tf.RaggedTensor.from_row_lengths(
        tf.boolean_mask(ids.flat_values, keep), kept, validate=False
    )


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertMultipleChoicePreprocessor(AlbertPreprocessingLayer):
    """Packs `[CLS] article [SEP] question+option [SEP]` for every option.

    Takes a dict `{"article": (batch,), "question": (batch,),
    "options": (batch, num_choices)}` of strings (other keys such as `"id"`
    are ignored; this is what `keras_albert.datasets.load_race` returns) and
    returns `{"token_ids", "segment_ids", "padding_mask"}`, int32 tensors of
    shape `(batch, num_choices, L)`, ready for `AlbertMultipleChoice`.
    Unbatched inputs (a scalar article and question, a 1-D `options`) give
    `(num_choices, L)`.

    Each option is joined to its question as in Google's ALBERT RACE code:
    a question with a blank `"_"` has the blank filled by the option,
    any other question is followed by a space and the option. The article
    is segment 0 (`[CLS] article [SEP]`), question+option segment 1.

    Truncation (total length at most `sequence_length`, specials included):
    `"article_first"` (ALBERT's RACE recipe) keeps the question+option
    whole up to `max_qa_length` tokens (beyond that its *last*
    `max_qa_length` tokens, so the option survives) and cuts the *end* of
    the article to make room: the question and option are never cut for
    the article's sake. `"round_robin"` trims both segments alternately,
    like `AlbertPreprocessor`.

    `L` is the smallest of the `length_buckets` widths that holds the
    longest packed sequence of the batch (over all options), capped at
    `sequence_length` (with `length_buckets=None`: that sequence rounded up
    to a multiple of `pad_to_multiple_of`). Padding is `<pad>` (id 0) with `padding_mask` 0.
    Runs as TF ops inside `tf.data` on every backend; called eagerly it
    returns the backend's tensors.

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: int. Maximum packed length, specials included.
        truncate: str. `"article_first"` or `"round_robin"`.
        max_qa_length: int. Most tokens question+option keep with
            `"article_first"` (ALBERT uses 128 at `sequence_length=512`).
        pad_to_multiple_of: int. With `length_buckets=None`, round the
            batch length up to a multiple of this; 1 pads to the exact
            longest sequence.
        length_buckets: `"auto"`, None or a list of increasing widths (see
            `AlbertPreprocessor`).

    Example:
    ```python
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    preprocessor = keras_albert.AlbertMultipleChoicePreprocessor(
        tokenizer, sequence_length=512
    )
    x = preprocessor({
        "article": ["Tom went to the market to buy apples."],
        "question": ["Tom bought _ ."],
        "options": [["apples", "pears", "a car", "nothing"]],
    })
    x["token_ids"].shape  # (1, 4, L)

    x, y = keras_albert.datasets.load_race("RACE/train")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    ds = ds.map(preprocessor)  # ({"token_ids", ...}, labels)
    ```
    """

    config_arguments = ("truncate", "max_qa_length")

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="article_first",
        max_qa_length=128,
        pad_to_multiple_of=8,
        length_buckets="auto",
        **kwargs,
    ):
        super().__init__(tokenizer, **kwargs)
        self.truncate = check_truncate(truncate, TRUNCATION_STRATEGIES)
        self.sequence_length = check_sequence_length(
            sequence_length, 4,
            "`[CLS] [SEP] [SEP]` and one question/option token",
        )
        if max_qa_length is None or int(max_qa_length) < 1:
            raise ValueError(
                "`max_qa_length` must be a positive integer. Received: "
                f"{max_qa_length}."
            )
        self.max_qa_length = int(max_qa_length)
        set_padding(self, pad_to_multiple_of, length_buckets)

    def _fields(self, x):
        """The article, question and options tensors, checked."""
        if not isinstance(x, dict):
            raise ValueError(
                "AlbertMultipleChoicePreprocessor takes a dict with keys "
                f"{list(REQUIRED_KEYS)}. Received: {type(x).__name__}."
            )
        missing = [k for k in REQUIRED_KEYS if k not in x]
        if missing:
            raise ValueError(
                f"AlbertMultipleChoicePreprocessor inputs lack {missing}; "
                f"it needs {list(REQUIRED_KEYS)}. Received keys: "
                f"{sorted(x)}."
            )
        fields = {}
        for key in REQUIRED_KEYS:
            value = x[key]
            if isinstance(value, tf.RaggedTensor):
                raise ValueError(
                    f"`{key}` is ragged; every question needs the same "
                    "number of options (pad with empty strings, or group "
                    "questions by option count)."
                )
            value = tf.convert_to_tensor(value)
            if value.dtype != tf.string:
                raise ValueError(
                    f"`{key}` must hold strings. Received a tensor of dtype "
                    f"{value.dtype.name}."
                )
            fields[key] = value
        article, question, options = (fields[k] for k in REQUIRED_KEYS)
        rank = article.shape.rank
        if rank not in (0, 1) or question.shape.rank != rank or (
            options.shape.rank != rank + 1
        ):
            raise ValueError(
                "Expected `article` and `question` of shape (batch,) and "
                "`options` of shape (batch, num_choices) (or a scalar "
                "article and question with 1-D options). Received shapes "
                f"article={article.shape}, question={question.shape}, "
                f"options={options.shape}."
            )
        if rank == 1:
            sizes = {
                article.shape[0], question.shape[0], options.shape[0]
            } - {None}
            if len(sizes) > 1:
                raise ValueError(
                    "`article`, `question` and `options` must have the same "
                    f"batch size. Received shapes article={article.shape}, "
                    f"question={question.shape}, options={options.shape}."
                )
        return article, question, options, rank == 0

    def _trim(self, article_ids, qa_ids):
        budget = self.sequence_length - 3
        if self.truncate == "round_robin":
            trimmer = tf_text.RoundRobinTrimmer(max_seq_length=budget)
            return trimmer.trim([article_ids, qa_ids])
        # Keep the end of question+option, where the option is (ALBERT's
        # race_utils keeps `ending_tokens[-max_qa_length:]` too).
        qa_lengths = qa_ids.row_lengths()
        qa_start = tf.maximum(qa_lengths - min(self.max_qa_length, budget), 0)
        qa_ids = _slice_rows(qa_ids, qa_start, qa_lengths)
        # The article gets what is left and loses its end first.
        article_room = budget - (qa_lengths - qa_start)
        article_ids = _slice_rows(
            article_ids, tf.zeros_like(article_room), article_room
        )
        return article_ids, qa_ids

    def pack(self, x):
        """Packs the input dict into model inputs (TF tensors only)."""
        article, question, options, unbatched = self._fields(x)
        if unbatched:
            article, question = article[None], question[None]
            options = options[None]
        token_ids, segment_ids = self._combine(article, question, options)
        batch_size = tf.shape(options)[0]
        num_choices = tf.shape(options)[1]

        # Rows are (question, option) pairs: regroup them by question.
        outputs = self._pad_rows(token_ids, segment_ids)
        shape = tf.stack(
            [batch_size, num_choices, tf.shape(outputs["token_ids"])[1]]
        )
        outputs = {k: tf.reshape(v, shape) for k, v in outputs.items()}
        if unbatched:
            outputs = {k: v[0] for k, v in outputs.items()}
        return outputs

    def _packed_ragged(self, x):
        article, question, options, unbatched = self._fields(x)
        if unbatched:
            raise ValueError(
                "Packing rows for batching takes a batch of questions, not "
                "a single one.")
        token_ids, segment_ids = self._combine(article, question, options)
        return token_ids, segment_ids, int(options.shape[1])

    def _combine(self, article, question, options):
        """Ragged `(token_ids, segment_ids)` of `[CLS] article [SEP]
        question+option [SEP]`, one row per (question, option) pair,
        question-major, trimmed to `sequence_length`."""
        batch_size = tf.shape(options)[0]
        num_choices = tf.shape(options)[1]

        # One row per (question, option), question-major like `options`.
        question_per_row = tf.repeat(question, num_choices)
        qa_text = question_with_option(
            question_per_row, tf.reshape(options, [-1])
        )
        # One tokenizer call for articles and question+options (every op
        # in the map function adds to each tf.data iterator's start-up);
        # each article is tokenized once and shared across its options.
        ids = self._tokenize(tf.concat([article, qa_text], axis=0))
        article_ids = tf.gather(
            ids[:batch_size], tf.repeat(tf.range(batch_size), num_choices)
        )
        qa_ids = ids[batch_size:]
        article_ids, qa_ids = self._trim(article_ids, qa_ids)
        return tf_text.combine_segments(
            [article_ids, qa_ids],
            start_of_sequence_id=self.tokenizer.cls_token_id,
            end_of_segment_id=self.tokenizer.sep_token_id,
        )
