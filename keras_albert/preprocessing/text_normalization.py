"""ALBERT's text normalisation, the same in Python and in TF graphs.

Hugging Face's `AlbertTokenizer.preprocess_text` (and Google's
`tokenization.preprocess_text`) collapse whitespace, turn LaTeX-style quotes
into `"`, drop accents (NFKD, then combining marks) and lower-case. The
tokenizer applies these in-graph; `train_sentencepiece` applies the Python
twin to training text so that training and inference see the same strings.
"""

import unicodedata


def normalize_text(text, lowercase=True, strip_accents=True):
    """Python version of `normalize_text_tf`."""
    text = " ".join(text.strip().split())
    text = text.replace("``", '"').replace("''", '"')
    if strip_accents:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if lowercase:
        text = text.lower()
    return text


def normalize_text_tf(text, lowercase=True, strip_accents=True):
    """Normalises a string tensor with TF ops (works inside tf.data)."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
    text = tf.strings.regex_replace(text, "``|''", '"')
    if strip_accents:
        text = tf_text.normalize_utf8(text, "NFKD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
    if lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    return text
