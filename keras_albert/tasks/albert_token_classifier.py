"""Token classification (NER, chunking, POS) on ALBERT's sequence output."""

import keras
import numpy as np

from keras_albert.metrics.sequence_labeling import entity_scores
from keras_albert.metrics.sequence_labeling import infer_scheme
from keras_albert.metrics.sequence_labeling import token_accuracy
from keras_albert.preprocessing import (
    albert_token_classification_preprocessor as token_preprocessing,
)
from keras_albert.preprocessing.length_batching import LengthBatches
from keras_albert.preprocessing.length_batching import check_flag
from keras_albert.preprocessing.length_batching import (
    check_tokens_per_batch,
)
from keras_albert.tasks import word_tagging
from keras_albert.tasks.albert_task import AlbertTask
from keras_albert.tasks.word_tagging import OUTSIDE
from keras_albert.tasks.word_tagging import as_sentences
from keras_albert.tasks.word_tagging import check_labels
from keras_albert.tasks.word_tagging import tag_lists
from keras_albert.utils.text_inputs import is_string
from keras_albert.utils.text_inputs import is_text_batch

@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertTokenClassifier(AlbertTask):
    """ALBERT with a dense tag classifier on every token.

    Outputs logits `(batch, length, len(labels))`, the layout of Hugging
    Face's `AlbertForTokenClassification` (dropout, then one `Dense`), so
    its checkpoints load with `from_preset` and `save_to_preset(...,
    format="hf")` writes one back.

    With a preprocessor attached the model takes sentences as lists of
    words (what `keras_albert.datasets.load_conll` returns) or raw strings
    (split on whitespace), with one tag string per word:

    - training labels the first SentencePiece piece of each word with the
      word's tag; other pieces, `[CLS]`, `[SEP]` and padding carry no loss
      (the default loss is a mean over labelled pieces only, and the
      default accuracy counts only them);
    - predictions are read off each word's first piece;
    - sentences longer than the window (`preprocessor.sequence_length`,
      capped at the model's positions) are split into overlapping windows,
      every word predicted in the window where it has most context; none
      is truncated.

    Token-id dicts and `tf.data` datasets of `(x, label_ids, label_mask)`
    pass through to Keras unchanged.

    Args:
        backbone: an `AlbertBackbone`.
        labels: list of tag strings in id order, e.g.
            `["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]`. IOB1, IOB2 and
            IOBES tags decode into entities; any other tag set still trains
            and predicts tags (`predict_tags`).
        preprocessor: optional `AlbertTokenClassificationPreprocessor`.
        dropout: float. Dropout before the classifier (0.1 in ALBERT).

    Example:
    ```python
    x, y = keras_albert.datasets.load_conll("eng.train")
    ner = keras_albert.AlbertTokenClassifier.from_preset(
        "base", labels=conll_labels(y))
    ner.compile()
    ner.fit(x, y, batch_size=32, epochs=3)
    ner.predict_entities(["Ada Lovelace met Charles Babbage in London."])
    # [[{'label': 'PER', 'text': 'Ada Lovelace', 'start': 0, 'end': 12,
    #    'score': 0.98}, ...]]
    ner.task_metrics(x_test, y_test)  # {'f1': ..., 'f1_PER': ..., ...}
    ```
    """

    task_name = "token_classifier"
    hf_architecture = "AlbertForTokenClassification"
    preprocessor_cls = (
        token_preprocessing.AlbertTokenClassificationPreprocessor
    )
    reads_pooled_output = False

    def __init__(self, backbone, labels, preprocessor=None, dropout=0.1,
                 **kwargs):
        labels = check_labels(labels)
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        self.head_dropout = self._head_dropout(backbone, dropout,
                                               "head_dropout")
        self.head = self._dense_head(backbone, len(labels), "logits")
        outputs = self.head(self.head_dropout(sequence))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        # A tuple: Keras would wrap a list attribute in a tracking list.
        self._labels = tuple(labels)
        self._label_ids = {t: i for i, t in enumerate(labels)}
        self.dropout = float(dropout)

    @property
    def labels(self):
        """The tag strings, in id order."""
        return list(self._labels)

    @property
    def num_labels(self):
        return len(self._labels)

    # -- presets -------------------------------------------------------
    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds the tagger from a preset (see `AlbertTask.from_preset`).

        A directory saved from an `AlbertTokenClassifier` restores its own
        `labels`; a Hugging Face `AlbertForTokenClassification` folder
        supplies them from `id2label` when it names real tags. Any other
        source (a backbone, another task, placeholder `LABEL_0` names)
        needs `labels=[...]`. Passing `labels` that differ from a saved
        model's starts a fresh classifier on the same backbone.
        """
        from keras_albert.presets import huggingface
        from keras_albert.presets import keras_albert_format as kaf
        from keras_albert.presets import loader

        if "labels" in kwargs:
            kwargs["labels"] = check_labels(kwargs["labels"])
        else:
            kind, where = loader.resolve(preset)
            saved = (
                kaf.load_task_config(where) if kind == "keras_albert"
                else None
            )
            ours = keras.saving.get_registered_name(cls)
            if kind in ("hf_dir", "hf_hub"):
                kwargs["labels"] = huggingface.read_label_names(
                    loader.localize(preset)[1])
                if kwargs["labels"] is None:
                    raise ValueError(
                        f"{preset!r} does not name its tags (its "
                        "config.json's id2label has none, or only "
                        "placeholder LABEL_<i> names). Pass them in id "
                        "order: `AlbertTokenClassifier.from_preset(..., "
                        "labels=['O', 'B-PER', ...])`."
                    )
            elif not (saved and saved.get("registered_name") == ours):
                raise ValueError(
                    f"{preset!r} holds no {cls.__name__}, so its tags are "
                    "unknown. Pass them in id order: `from_preset(preset, "
                    "labels=['O', 'B-PER', 'I-PER', ...])` (e.g. "
                    "`conll_labels(y)`)."
                )
        return super().from_preset(preset, load_weights=load_weights,
                                   **kwargs)

    # -- training --------------------------------------------------------
    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` with ALBERT fine-tuning defaults for `"auto"`: AdamW
        at 2e-5 (weight decay 0.01), cross-entropy on logits averaged over
        the labelled pieces only, and an `accuracy` over the same pieces.

        Both use the label mask that the preprocessor passes as sample
        weight (`weighted_metrics`); a custom loss sees it as
        `sample_weight` too.
        """
        if optimizer == "auto":
            optimizer = self._fine_tuning_optimizer()
        if loss == "auto":
            # Divides by the sum of the weights (the number of labelled
            # pieces), not by batch * length, so the loss does not shrink
            # with padding and sub-word pieces.
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        if metrics == "auto":
            metrics = None
            kwargs.setdefault(
                "weighted_metrics",
                [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            )
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def _sequence_length(self):
        preprocessor = self._require_preprocessor("words or text")
        return min(preprocessor.sequence_length,
                   self.backbone.max_sequence_length)

    def _tag_ids(self, y, num_sentences):
        if y is None:
            raise ValueError(
                "Training and evaluation on words need their tags: pass `y`, "
                "one list of tag strings per sentence."
            )
        y = list(y)
        if len(y) != num_sentences:
            raise ValueError(
                f"Got {num_sentences} sentences but {len(y)} tag lists."
            )
        ids = []
        for i, tags in tag_lists(y):
            row = []
            for w, tag in enumerate(tags):
                if isinstance(tag, (int, np.integer)) and not isinstance(
                        tag, bool) and 0 <= tag < self.num_labels:
                    row.append(int(tag))
                elif isinstance(tag, str) and tag in self._label_ids:
                    row.append(self._label_ids[tag])
                else:
                    raise ValueError(
                        f"Word {w} of sentence {i} has tag {tag!r}, which is "
                        f"not one of the model's labels {self.labels}."
                    )
            ids.append(row)
        return ids

    # -- the natural-data hooks of `AlbertTask` ----------------------------
    # Packed labels: one tag id per piece, `(batch, length)`.
    _label_rank = 2

    def _target_classes(self):
        return self.num_labels

    def _is_raw_input(self, x):
        return as_sentences(x) is not None

    def _raw_dataset(self, x, y=None, sample_weight=None, batch_size=None,
                     shuffle=False, by_length=True, tokens_per_batch=None):
        """Rows of sentences (word lists or whitespace-split strings) and
        their tags; a long sentence may take several rows, batched by
        length (see `AlbertTask._raw_dataset`)."""
        if sample_weight is not None:
            raise ValueError(
                "`sample_weight` is not supported with sentences: the "
                "loss is weighted by the label mask of each row."
            )
        sentences = as_sentences(x)
        return self._require_preprocessor("words or text").dataset(
            sentences, self._tag_ids(y, len(sentences)),
            batch_size=batch_size or 32, shuffle=shuffle,
            sequence_length=self._sequence_length(),
            bucket_by_length=by_length, tokens_per_batch=tokens_per_batch,
        )

    def _labels_missing_message(self):
        return (
            "Training and evaluation on words need their tags: pass `y`, "
            "one list of tag strings per sentence."
        )

    def _predict_raw(self, x, batch_size=None, sort_by_length=True,
                     tokens_per_batch=None, **kwargs):
        """A list with one `(num_words, num_labels)` array per sentence:
        each word's first-piece logits (NaN for a word with no piece)."""
        return self._word_logits(as_sentences(x), batch_size,
                                 sort_by_length, tokens_per_batch)[1]

    def _empty_prediction(self):
        return []

    def _maybe_map_dataset(self, x):
        import tensorflow as tf

        if isinstance(x, tf.data.Dataset):
            for spec in tf.nest.flatten(x.element_spec):
                if is_text_batch(spec):
                    raise ValueError(
                        f"{type(self).__name__} does not map tf.data "
                        "datasets of strings (words are aligned in Python). "
                        "Pass lists of sentences and tags, or a dataset of "
                        "packed `(x, label_ids, label_mask)` such as "
                        "`preprocessor.dataset(...)` makes."
                    )
        return x

    def fit(self, *args, **kwargs):
        """Keras `fit`, also on sentences and their tags.

        `x` may be a list of sentences, each a list of words or a string
        (split on whitespace), with `y` one list of tag strings per
        sentence (`sample_weight` is not supported there: rows are
        weighted by their label masks); token-id dicts and `tf.data`
        datasets pass to Keras as they are. `validation_data` may be
        `(sentences, tags)`.
        """
        return super().fit(*args, **kwargs)

    # -- inference -------------------------------------------------------
    def _word_logits(self, sentences, batch_size=32, sort_by_length=True,
                     tokens_per_batch=None):
        """`(encoded, logits)`: per sentence its `EncodedSentence` and a
        `(num_words, num_labels)` float32 array of first-piece logits (NaN
        rows for words that produced no piece). Rows (windows) are batched
        longest first with `sort_by_length`, `tokens_per_batch` capping
        rows times padded width (see `AlbertTask.predict`)."""
        preprocessor = self._require_preprocessor("words or text")
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1. Got {batch_size}.")
        check_flag("sort_by_length", sort_by_length)
        check_tokens_per_batch(tokens_per_batch)
        length = self._sequence_length()
        encoded = preprocessor.encode_batch(sentences, sequence_length=length)
        rows = [(i, w) for i, e in enumerate(encoded)
                for w in range(len(e.windows))]
        # Similar lengths in one batch: less padding to compute, and a
        # few padded widths (compiled shapes).
        batches = LengthBatches(
            [len(encoded[i].windows[w]["token_ids"]) for i, w in rows],
            batch_size, by_length=sort_by_length,
            tokens_per_batch=tokens_per_batch,
            padded_width=lambda n: preprocessor.padded_width(n, length),
            split_widths=self._split_widths())
        row_logits = {}
        for indices in batches.epoch():
            chunk = [rows[r] for r in indices]
            x = preprocessor.pack(
                [encoded[i].windows[w] for i, w in chunk], length
            )
            self._check_token_inputs(x)
            logits = keras.ops.convert_to_numpy(self.predict_on_batch(x))
            for (i, w), row in zip(chunk, logits):
                row_logits[i, w] = row
        return encoded, word_tagging.stitch_word_logits(
            encoded, row_logits, self.num_labels)

    def _fallback_tag(self):
        # Words without pieces consist only of characters the normaliser
        # deletes (e.g. a lone combining accent); nothing was predicted.
        return OUTSIDE if OUTSIDE in self._label_ids else self._labels[0]

    def _tags_and_scores(self, sentences, batch_size, tokens_per_batch=None):
        encoded, logits = self._word_logits(
            sentences, batch_size, tokens_per_batch=tokens_per_batch)
        return [
            (e, *word_tagging.word_tags(rows, self._labels,
                                         self._fallback_tag()))
            for e, rows in zip(encoded, logits)
        ]

    @staticmethod
    def _one_or_many(texts):
        single = is_string(texts)
        sentences = [texts] if single else as_sentences(texts)
        if sentences is None:
            if isinstance(texts, (list, tuple)) and not texts:
                return [], False
            raise ValueError(
                "Expected a string or a list of sentences (strings or lists "
                f"of words). Received: {type(texts).__name__}."
            )
        return sentences, single

    def predict_tags(self, sentences, batch_size=32, tokens_per_batch=None):
        """One tag per word for each sentence.

        Args:
            sentences: a list of sentences, each a list of words or a
                string (words = its whitespace-separated parts); a lone
                string gives that sentence's tags only.
            batch_size: rows per forward pass.
            tokens_per_batch: optional int: rows per forward pass up to
                `rows * padded_width <= tokens_per_batch` instead of
                `batch_size` (see `predict`).

        Returns:
            A list of tag lists (one tag per word).
        """
        sentences, single = self._one_or_many(sentences)
        if not sentences:
            return []
        tags = [t for _, t, _ in self._tags_and_scores(
            sentences, batch_size, tokens_per_batch)]
        return tags[0] if single else tags

    def _scheme(self, extra_tags=()):
        try:
            return infer_scheme(list(self._labels) + list(extra_tags))
        except ValueError as e:
            raise ValueError(
                f"Entities need IOB1/IOB2/IOBES tags, but {e} The model's "
                f"labels are {self.labels}; use `predict_tags` for other "
                "tag sets."
            ) from None

    def predict_entities(self, texts, batch_size=32, tokens_per_batch=None):
        """Named entities with exact character spans.

        Each word is tagged by its first piece and the tags are decoded
        like seqeval (lenient IOB1/IOB2/IOBES). Offsets index the given
        string, so `text[start:end] == entity["text"]` whatever its
        spacing, accents or case; for a list of words they index the words
        joined by single spaces.

        Args:
            texts: a list of strings (or of word lists); a lone string gives
                that text's entities only.
            batch_size: rows per forward pass.
            tokens_per_batch: optional int (see `predict_tags`).

        Returns:
            Per text, a list of dicts `{"label", "text", "start", "end",
            "score"}`, `score` being the mean over the entity's words of
            the probability of their predicted tag.
        """
        texts, single = self._one_or_many(texts)
        if not texts:
            return []
        scheme = self._scheme()
        results = [
            word_tagging.decode_entities(e, tags, scores, scheme)
            for e, tags, scores in self._tags_and_scores(
                texts, batch_size, tokens_per_batch)
        ]
        return results[0] if single else results

    def task_metrics(self, x, y, batch_size=32):
        """Entity-level scores of the predictions for `x` against `y`.

        Args:
            x: list of sentences (word lists or strings).
            y: list of gold tag lists, one tag per word (strings, or label
                ids).
            batch_size: rows per forward pass.

        Returns:
            `{"precision", "recall", "f1", "accuracy"}` (entity-level micro
            averages with seqeval's conventions, and word accuracy) plus
            `"precision_<TYPE>"`, `"recall_<TYPE>"`, `"f1_<TYPE>"` for each
            entity type, all floats.
        """
        sentences = as_sentences(x)
        if sentences is None:
            raise ValueError(
                "Entity scores need a list of sentences (word lists or "
                f"strings) and their tags. Received: {type(x).__name__}."
            )
        gold = []
        for i, tags in tag_lists(y):
            row = []
            for w, tag in enumerate(tags):
                if isinstance(tag, (int, np.integer)):
                    if not 0 <= tag < self.num_labels:
                        raise ValueError(
                            f"Word {w} of sentence {i} has label id {tag}; "
                            f"the model has {self.num_labels} labels."
                        )
                    tag = self._labels[tag]
                row.append(tag)
            gold.append(row)
        if len(gold) != len(sentences):
            raise ValueError(
                f"Got {len(sentences)} sentences but {len(gold)} tag lists."
            )
        pred = self.predict_tags(sentences, batch_size)
        for i, (p, g) in enumerate(zip(pred, gold)):
            if len(p) != len(g):
                raise ValueError(
                    f"Sentence {i} has {len(p)} words but {len(g)} tags."
                )
        scheme = self._scheme(t for sentence in gold for t in sentence)
        scores = entity_scores(gold, pred, scheme=scheme)
        scores["accuracy"] = token_accuracy(gold, pred)
        return scores

    # -- config ----------------------------------------------------------
    def serving_outputs(self, outputs, inputs, **options):
        """Per piece `logits`, `probabilities` and `labels` (tag ids; the
        names are in the export settings)."""
        return self._class_outputs(outputs)

    def export_settings(self, **options):
        return {"labels": list(self.labels)}

    def get_config(self):
        config = super().get_config()
        config.update({"labels": self.labels, "dropout": self.dropout})
        return config
