"""Training SentencePiece vocabularies with ALBERT's special tokens."""

import os

from keras_albert.preprocessing.text_normalization import normalize_text


def _iter_corpus(corpus, lowercase, strip_accents):
    items = [corpus] if isinstance(corpus, (str, os.PathLike)) else corpus
    for item in items:
        if isinstance(item, os.PathLike) or (
            isinstance(item, str) and os.path.isfile(item)
        ):
            with open(item, encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = normalize_text(line, lowercase, strip_accents)
                    if line:
                        yield line
        else:
            line = normalize_text(str(item), lowercase, strip_accents)
            if line:
                yield line


def train_sentencepiece(corpus, output_path, vocabulary_size=30000,
                        model_type="unigram", lowercase=True,
                        strip_accents=None, character_coverage=0.9999,
                        input_sentence_size=2_000_000,
                        max_sentence_length=8192, seed=0):
    """Trains a SentencePiece model whose ids match ALBERT's conventions.

    `<pad>`=0, `<unk>`=1, `[CLS]`=2, `[SEP]`=3, `[MASK]`=4 (control symbols,
    so text never produces them). Text is normalised exactly as
    `AlbertTokenizer` normalises it, so training and inference agree. Small
    corpora get a smaller vocabulary rather than an error.

    Args:
        corpus: text files (paths; one sentence or paragraph per line), or
            an iterable of strings.
        output_path: where to write the `.model` (a `.vocab` goes beside).
        vocabulary_size: int. Target vocabulary size.
        model_type: `"unigram"` (ALBERT's) or `"bpe"`, `"word"`, `"char"`.
        lowercase: bool. Lower-case the training text (match the tokenizer).
        strip_accents: bool or None. None follows `lowercase`.
        character_coverage: float. Share of characters to cover.
        input_sentence_size: int. Sample at most this many sentences.
        max_sentence_length: int. Longer lines (in bytes) are skipped.
        seed: int. Sampling seed, for reproducible vocabularies.

    Returns:
        `output_path`.

    Example:
    ```python
    keras_albert.train_sentencepiece(["first text", "second text"] * 50,
                                     "spiece.model", vocabulary_size=64)
    tokenizer = keras_albert.AlbertTokenizer(proto="spiece.model")
    ```
    """
    import sentencepiece as spm

    if strip_accents is None:
        strip_accents = lowercase
    output_path = os.fspath(output_path)
    prefix = output_path[:-len(".model")] if output_path.endswith(
        ".model") else output_path
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    sentences = _iter_corpus(corpus, lowercase, strip_accents)
    spm.set_random_generator_seed(int(seed))
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences,
        model_prefix=prefix,
        vocab_size=int(vocabulary_size),
        model_type=model_type,
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        character_coverage=character_coverage,
        input_sentence_size=int(input_sentence_size),
        shuffle_input_sentence=True,
        max_sentence_length=int(max_sentence_length),
        hard_vocab_limit=False,
        # Text is already normalised the ALBERT way; keep NFKC only.
        normalization_rule_name="nmt_nfkc",
        num_threads=1,
        minloglevel=2,
    )
    written = prefix + ".model"
    if written != output_path:
        os.replace(written, output_path)
    return output_path
