"""Extractive question answering (SQuAD v1.1 / v2.0) on ALBERT."""

import keras
import numpy as np

from keras_albert.layers.best_answer_span import BestAnswerSpan
from keras_albert.metrics.squad import best_threshold_scores
from keras_albert.metrics.squad import squad_scores
from keras_albert.preprocessing.albert_question_answering_preprocessor import (
    END_LOGITS,
    START_LOGITS,
    AlbertQuestionAnsweringPreprocessor,
    split_question_context,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.length_batching import check_flag
from keras_albert.preprocessing.length_batching import (
    check_tokens_per_batch,
)
from keras_albert.preprocessing.token_alignment import textless_piece_ids
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.utils.text_inputs import is_text_input


def _is_squad_input(x):
    """Whether `x` is natural QA data (`{"question", "context", ...}`)."""
    return isinstance(x, dict) and "token_ids" not in x and (
        "question" in x or "context" in x
    )


def _position_targets(y):
    """Start/end positions given as a `(start, end)` pair or a dict with
    `start_positions`/`end_positions` (Hugging Face's names), keyed by the
    model's output names for Keras."""
    if isinstance(y, (tuple, list)) and len(y) == 2 and all(
        np.ndim(v) == 1 for v in y
    ):
        return {START_LOGITS: y[0], END_LOGITS: y[1]}
    if isinstance(y, dict) and {"start_positions", "end_positions"} <= set(y):
        return {START_LOGITS: y["start_positions"],
                END_LOGITS: y["end_positions"]}
    return y


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertQuestionAnswerer(AlbertTask):
    """ALBERT predicting answer spans in a context (SQuAD).

    A `Dense(2)` (`self.span_head`) on every position of the sequence
    output gives `{"start_logits": (batch, L), "end_logits": (batch, L)}`,
    exactly Hugging Face's `AlbertForQuestionAnswering` (whose checkpoints
    load with `from_preset` and which `save_to_preset(..., format="hf")`
    writes). Logits at padded positions are returned unmasked, as there;
    decoding only ever considers context pieces. The default loss is the
    mean of the start and end cross-entropies; an unanswerable question
    (SQuAD 2.0), or a window that does not hold the answer, points both at
    `[CLS]` (position 0).

    With an `AlbertQuestionAnsweringPreprocessor` attached, `fit`,
    `evaluate`, `predict_answers` and `task_metrics` take the natural
    data of `keras_albert.datasets.load_squad`: `x = {"question": [...],
    "context": [...], ...}` and `y` a list per question of gold answers
    `[{"text", "answer_start"}]` (`[]`: no answer). Long contexts are split
    into overlapping windows and their predictions combined. Token dicts
    (targets as `(start_positions, end_positions)`) and `tf.data` datasets
    of token dicts pass through to Keras.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: optional `AlbertQuestionAnsweringPreprocessor`.
        dropout: float. Dropout before the span head. 0 (the default)
            matches Hugging Face, whose head has none.

    Example:
    ```python
    x, y = keras_albert.datasets.load_squad("train-v1.1.json")
    model = keras_albert.AlbertQuestionAnswerer.from_preset("base")
    model.compile()
    model.fit(x, y, batch_size=32, epochs=2)
    model.predict_answers({"question": ["Where does Ann live?"],
                           "context": ["Ann lives in Oslo."]})
    # [{"text": "Oslo", "start": 13, "end": 17, "score": ..., ...}]
    model.task_metrics(*keras_albert.datasets.load_squad(
        "dev-v1.1.json"))  # {"exact_match": ..., "f1": ...}
    ```
    """

    task_name = "question_answerer"
    hf_architecture = "AlbertForQuestionAnswering"
    # The longest answer span (in pieces) the exported `span_*` outputs
    # consider, as in SQuAD evaluation scripts.
    export_options = {"max_answer_length": 30}
    preprocessor_cls = AlbertQuestionAnsweringPreprocessor
    reads_pooled_output = False

    def __init__(self, backbone, preprocessor=None, dropout=0.0, **kwargs):
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        self.span_dropout = self._head_dropout(backbone, dropout,
                                               "span_dropout")
        self.span_head = self._dense_head(backbone, 2, "qa_outputs")
        logits = self.span_head(self.span_dropout(sequence))
        # Identity layers give the outputs stable names for losses/metrics.
        start = keras.layers.Identity(name=START_LOGITS, dtype=backbone.dtype_policy)(logits[:, :, 0])
        end = keras.layers.Identity(name=END_LOGITS, dtype=backbone.dtype_policy)(logits[:, :, 1])
        super().__init__(
            inputs=inputs,
            outputs={START_LOGITS: start, END_LOGITS: end},
            **kwargs,
        )
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.dropout = float(dropout)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` with fine-tuning defaults for `"auto"`: AdamW at 2e-5
        (weight decay 0.01), the mean of the start and end sparse
        cross-entropies (Hugging Face's loss) and start/end accuracy."""
        if optimizer == "auto":
            optimizer = self._fine_tuning_optimizer()
        if loss == "auto":
            loss = {
                START_LOGITS: keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
                END_LOGITS: keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
            }
            kwargs.setdefault("loss_weights",
                              {START_LOGITS: 0.5, END_LOGITS: 0.5})
        if metrics == "auto":
            # Logged as `start_logits_accuracy` and `end_logits_accuracy`.
            metrics = {
                START_LOGITS: [keras.metrics.SparseCategoricalAccuracy(
                    name="accuracy")],
                END_LOGITS: [keras.metrics.SparseCategoricalAccuracy(
                    name="accuracy")],
            }
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    # -- natural data ------------------------------------------------------
    def _qa_preprocessor(self):
        preprocessor = self._require_preprocessor("questions and contexts")
        limit = self.backbone.max_sequence_length
        if preprocessor.sequence_length > limit:
            raise ValueError(
                f"The preprocessor's sequence_length="
                f"{preprocessor.sequence_length} exceeds the backbone's "
                f"max_sequence_length={limit}. Load the model with "
                f"`from_preset(..., sequence_length={limit})` or set "
                "`model.preprocessor.sequence_length`."
            )
        return preprocessor

    def _features(self, x, y=None):
        questions, contexts = split_question_context(x)
        if y is not None and len(y) != len(questions):
            raise ValueError(
                f"Got {len(y)} answer lists for {len(questions)} questions; "
                "give one list per question ([] for no answer)."
            )
        features = self._qa_preprocessor().featurize(questions, contexts, y)
        return features, contexts

    # -- the natural-data hooks of `AlbertTask` ----------------------------
    def _is_raw_input(self, x):
        return _is_squad_input(x)

    def _raw_dataset(self, x, y=None, sample_weight=None, batch_size=None,
                     shuffle=False, by_length=True, tokens_per_batch=None):
        """Features of `load_squad`'s `(x, y)`, shuffled every epoch when
        `shuffle`, batched by length (see `AlbertTask._raw_dataset`)."""
        if sample_weight is not None:
            raise ValueError(
                "Sample weights are not supported with questions and "
                "contexts: a long context becomes several features."
            )
        features, _ = self._features(x, y)
        return self.preprocessor.make_dataset(
            features, batch_size=batch_size or 32, shuffle=shuffle,
            bucket_by_length=by_length, tokens_per_batch=tokens_per_batch,
        )

    def _labels_missing_message(self):
        return (
            "Training and evaluation on questions and contexts need `y`:"
            " a list per question of gold answers [{'text', "
            "'answer_start'}] ([] for no answer)."
        )

    def _predict_raw(self, x, batch_size=None, sort_by_length=True,
                     tokens_per_batch=None, **kwargs):
        raise ValueError(
            "`predict` takes token dicts; for questions and contexts use "
            "`predict_answers(x)`, which windows long contexts and "
            "returns answer strings."
        )

    def _packed_inputs(self, x):
        if is_text_input(x):
            raise ValueError(
                f"{type(self).__name__} takes a dict with 'question' and "
                "'context' lists (what `load_squad` returns), not bare "
                "strings."
            )
        return super()._packed_inputs(x)

    def _packed_targets(self, y):
        return _position_targets(y)

    def _feature_logits(self, features, batch_size, sort_by_length=True,
                        tokens_per_batch=None):
        """Start/end logit vectors per feature, each as long as its
        feature; features batched longest first with `sort_by_length`
        (see `AlbertTask.predict`)."""
        lengths = [len(ids) for ids in features["token_ids"]]
        batches = LengthBatches(
            lengths, batch_size, by_length=sort_by_length,
            tokens_per_batch=tokens_per_batch,
            padded_width=self.preprocessor.padded_width,
            split_widths=self._split_widths())
        starts, ends = [None] * len(lengths), [None] * len(lengths)
        for indices in batches.epoch():
            batch = self.preprocessor.pad(features, indices)
            self._check_token_inputs(batch)
            logits = self.predict_on_batch(batch)
            start = keras.ops.convert_to_numpy(logits[START_LOGITS])
            end = keras.ops.convert_to_numpy(logits[END_LOGITS])
            for row, i in enumerate(indices):
                starts[i] = start[row, :lengths[i]]
                ends[i] = end[row, :lengths[i]]
        return starts, ends

    def predict_answers(self, x, batch_size=32, n_best=20,
                        max_answer_length=30, null_score_diff_threshold=0.0,
                        version_2=None, sort_by_length=True,
                        tokens_per_batch=None):
        """The answer to every question, combining all windows of its
        context.

        Args:
            x: `{"question": [...], "context": [...]}`, optionally with
                `"id"` (copied into the answers); other keys are ignored.
            batch_size: int. Features per model call.
            n_best: int. Candidates kept per window and returned per
                question.
            max_answer_length: int. Longest answer, in pieces.
            null_score_diff_threshold: float. SQuAD 2.0: answer "" when the
                `[CLS]` score beats the best span's by more than this.
            version_2: bool. Allow "no answer" (SQuAD 2.0). None means
                False here; `task_metrics` infers it from the gold
                answers.
            sort_by_length: bool. Batch features longest first (less
                padding, a few compiled shapes); False keeps their order.
            tokens_per_batch: optional int: features per model call up to
                `rows * padded_width <= tokens_per_batch` instead of
                `batch_size` (see `AlbertTask.predict`).

        Returns:
            One dict per question: `text` (an exact substring of its
            context, `""` for no answer), `start`/`end` (character offsets,
            None for no answer), `score`, `null_score`, `n_best` (the best
            candidates with `text`, `start`, `end`, `score`) and, when `x`
            has ids, `id`.
        """
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(
                f"`batch_size` must be >= 1. Received: {batch_size}."
            )
        check_flag("sort_by_length", sort_by_length)
        check_tokens_per_batch(tokens_per_batch)
        features, contexts = self._features(x)
        starts, ends = self._feature_logits(
            features, batch_size, sort_by_length, tokens_per_batch)
        answers = self.preprocessor.decode_answers(
            features, contexts, starts, ends,
            n_best=n_best,
            max_answer_length=max_answer_length,
            null_score_diff_threshold=null_score_diff_threshold,
            version_2=bool(version_2),
        )
        if isinstance(x, dict) and "id" in x:
            ids = list(x["id"])
            if len(ids) != len(answers):
                raise ValueError(
                    f"x has {len(ids)} ids for {len(answers)} questions."
                )
            answers = [dict(a, id=i) for a, i in zip(answers, ids)]
        return answers

    def task_metrics(self, x, y, batch_size=32, version_2=None,
                     null_score_diff_threshold=0.0, n_best=20,
                     max_answer_length=30):
        """The official SQuAD scores (0-100) of the model's answers.

        Args:
            x: `{"question": [...], "context": [...], "id": [...]}`.
            y: a list per question of gold answers (`[]`: no answer).
            batch_size: int. Features per model call.
            version_2: bool. Score as SQuAD 2.0 (null answers allowed).
                None: when any question has no gold answer.
            null_score_diff_threshold, n_best, max_answer_length: see
                `predict_answers`.

        Returns:
            `{"exact_match", "f1"}`; for SQuAD 2.0 also `HasAns_exact`,
            `HasAns_f1`, `NoAns_exact`, `NoAns_f1` and the best no-answer
            threshold search, `best_exact`, `best_exact_thresh`,
            `best_f1`, `best_f1_thresh` (thresholds in the units of
            `null_score_diff_threshold`), plus question counts (`total`,
            `HasAns_total`, `NoAns_total`).
        """
        y = list(y)
        if version_2 is None:
            version_2 = any(len(answers) == 0 for answers in y)
        if len(y) != len(split_question_context(x)[0]):
            raise ValueError(
                f"Got {len(y)} answer lists for "
                f"{len(split_question_context(x)[0])} questions."
            )
        predictions = self.predict_answers(
            x, batch_size=batch_size, n_best=n_best,
            max_answer_length=max_answer_length,
            null_score_diff_threshold=null_score_diff_threshold,
            version_2=version_2,
        )
        scores = squad_scores([p["text"] for p in predictions], y)
        if version_2:
            # The threshold search answers with the best span wherever it
            # answers at all; the null-vs-span margin is the no-answer score.
            spans, margins = [], []
            for p in predictions:
                best = next(
                    (c for c in p["n_best"] if c["start"] is not None), None
                )
                spans.append(best["text"] if best else "")
                margins.append(
                    p["null_score"] - best["score"] if best else np.inf
                )
            scores.update(best_threshold_scores(spans, y, margins))
        return {key: float(value) for key, value in scores.items()}

    def serving_outputs(self, outputs, inputs, max_answer_length=30):
        """`start_logits`, `end_logits` and the best span in the graph:
        `span_start`/`span_end` (piece indexes; map them to characters
        with the preprocessor's offsets on the client), `span_score` and
        the `[CLS]` `null_score` SQuAD 2.0 compares against."""
        named = dict(outputs)
        named.update(BestAnswerSpan(
            max_answer_length,
            excluded_end_piece_ids=self._excluded_end_piece_ids(),
            name="best_span",
        )(outputs[START_LOGITS], outputs[END_LOGITS], inputs["token_ids"],
          inputs["segment_ids"], inputs["padding_mask"]))
        return named

    def _excluded_end_piece_ids(self):
        """Pieces an answer may not end on (a lone "▁"): the rule
        `predict_answers` decodes with, so the served span agrees."""
        if self.preprocessor is None:
            return ()
        return textless_piece_ids(self.preprocessor.tokenizer)

    def export_settings(self, max_answer_length=30):
        return {"max_answer_length": int(max_answer_length),
                "excluded_end_piece_ids": list(
                    self._excluded_end_piece_ids())}

    def get_config(self):
        config = super().get_config()
        config["dropout"] = self.dropout
        return config
