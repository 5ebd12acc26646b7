"""Training SentencePiece vocabularies with ALBERT's special tokens."""

import itertools
import logging
import os

from keras_albert.preprocessing.albert_tokenizer import SPECIAL_TOKENS

logger = logging.getLogger(__name__)

# Lines are normalised with the tokenizer's own TF ops, in chunks so the
# per-call overhead of TF stays negligible on large corpora.
_CHUNK = 2048


def _is_path(item):
    return isinstance(item, os.PathLike) or (
        isinstance(item, str) and os.path.isfile(item)
    )


def _raw_lines(corpus):
    """Yields raw text from files (streamed by line) or from strings."""
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    items = iter(corpus)
    first = next(items, None)
    if first is None:
        return
    items = itertools.chain([first], items)
    if _is_path(first):
        for path in items:
            if not isinstance(path, (str, os.PathLike)):
                raise ValueError(
                    "A corpus of files must only hold paths. Received: "
                    f"{path!r}."
                )
            with open(path, encoding="utf-8", errors="replace") as f:
                yield from f
    else:
        for text in items:
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            elif not isinstance(text, str):
                raise ValueError(
                    "`corpus` must be an iterable of strings or a list of "
                    f"text-file paths. Received an item of type "
                    f"{type(text).__name__}."
                )
            yield text


def _normalized_lines(corpus, lowercase, strip_accents):
    import tensorflow as tf

    from keras_albert.preprocessing.albert_tokenizer import (
        normalize_text_graph,
    )

    lines = _raw_lines(corpus)
    while True:
        chunk = list(itertools.islice(lines, _CHUNK))
        if not chunk:
            return
        with tf.device("cpu"):
            normalized = normalize_text_graph(
                tf.constant(chunk, dtype=tf.string), lowercase, strip_accents
            ).numpy()
        for line in normalized:
            if line:
                yield line.decode("utf-8")


def train_sentencepiece(
    corpus,
    output_path,
    vocabulary_size=30000,
    model_type="unigram",
    lowercase=True,
    strip_accents=None,
    character_coverage=0.9999,
    max_sentence_length=8192,
    input_sentence_size=10_000_000,
    seed=0,
    num_threads=1,
):
    """Trains a SentencePiece model whose ids follow ALBERT's conventions.

    The model maps `<pad>`=0, `<unk>`=1, `[CLS]`=2, `[SEP]`=3, `[MASK]`=4
    (the last three as control symbols, so text never produces them) and
    has no BOS/EOS pieces. The training text is normalised by the same TF
    ops `AlbertTokenizer` runs (whitespace, quotes, accents, case), so
    training and inference see identical strings.

    Corpora too small for `vocabulary_size` give a smaller vocabulary
    instead of SentencePiece's "Vocabulary size too high" error; the actual
    size is logged and is `AlbertTokenizer(...).vocabulary_size()`.

    Args:
        corpus: an iterable of strings, or text-file paths (`str` or
            `pathlib.Path`, or a list of them) read line by line. Decided
            by the first item: a `Path`, or a `str` naming an existing
            file, means files.
        output_path: where to write the `.model` (a `.vocab` goes beside).
        vocabulary_size: int. Target (maximum) vocabulary size, specials
            included.
        model_type: `"unigram"` (ALBERT's), `"bpe"`, `"word"` or `"char"`.
        lowercase: bool. Lower-case the text, as the tokenizer will.
        strip_accents: bool or `None`. Remove accents; `None` follows
            `lowercase`, like `AlbertTokenizer`.
        character_coverage: float. Share of characters the vocabulary
            covers; the rest map to `<unk>`.
        max_sentence_length: int. Longer lines (in bytes) are skipped.
        input_sentence_size: int. Train on at most this many lines, a
            random sample when the corpus has more.
        seed: int. Seed of SentencePiece's sampling, for reproducibility.
        num_threads: int. Trainer threads; 1 makes results reproducible.

    Returns:
        `output_path` as a string.

    Example:
    ```python
    path = keras_albert.train_sentencepiece(
        ["first training text", "second training text"] * 50,
        "spiece.model",
        vocabulary_size=64,
    )
    tokenizer = keras_albert.AlbertTokenizer(proto=path)
    ```
    """
    import sentencepiece as spm

    if strip_accents is None:
        strip_accents = lowercase
    if int(vocabulary_size) <= len(SPECIAL_TOKENS):
        raise ValueError(
            f"`vocabulary_size` must exceed the {len(SPECIAL_TOKENS)} special "
            f"tokens. Received: {vocabulary_size}."
        )
    output_path = os.fspath(output_path)
    if os.path.isdir(output_path):
        # SentencePiece would write `<dir>.model` and `<dir>.vocab` beside
        # it before the move into place failed.
        raise ValueError(
            f"{output_path} is a directory; give the model's file path, "
            f"e.g. {os.path.join(output_path, 'spiece.model')}."
        )
    prefix = output_path
    if prefix.endswith(".model"):
        prefix = prefix[: -len(".model")]
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)

    spm.set_random_generator_seed(int(seed))
    spm.SentencePieceTrainer.train(
        sentence_iterator=_normalized_lines(
            corpus, bool(lowercase), bool(strip_accents)
        ),
        model_prefix=prefix,
        vocab_size=int(vocabulary_size),
        model_type=model_type,
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        pad_piece="<pad>",
        unk_piece="<unk>",
        control_symbols=list(SPECIAL_TOKENS[2:]),
        character_coverage=float(character_coverage),
        max_sentence_length=int(max_sentence_length),
        input_sentence_size=int(input_sentence_size),
        shuffle_input_sentence=True,
        # An upper bound rather than an exact size, so tiny corpora train.
        hard_vocab_limit=False,
        num_threads=int(num_threads),
        minloglevel=2,
    )
    written = prefix + ".model"
    if written != output_path:
        os.replace(written, output_path)

    size = spm.SentencePieceProcessor(model_file=output_path).GetPieceSize()
    if size < int(vocabulary_size):
        logger.warning(
            "The corpus only supported %d SentencePiece pieces (asked for "
            "%d).",
            size,
            int(vocabulary_size),
        )
    return output_path
