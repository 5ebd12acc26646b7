"""`keras-albert tokenizer train`: a SentencePiece model for ALBERT.

Wired into `keras_albert/cli.py` through `add_parser(subparsers)`; the
chosen handler is stored as `args.func` (call `args.func(args)`).
"""

import inspect


def add_parser(subparsers):
    """Adds `tokenizer train` to an argparse subparsers object.

    Args:
        subparsers: the object returned by `parser.add_subparsers()`.

    Returns:
        The `tokenizer` sub-parser.

    Example:
    ```python
    parser = argparse.ArgumentParser(prog="keras-albert")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tokenizer", "train", "--corpus", "a.txt",
                              "--vocab-size", "8000", "--output", "sp.model"])
    args.func(args)
    ```
    """
    tokenizer = subparsers.add_parser(
        "tokenizer", help="Train SentencePiece models for ALBERT.",
        description="Train SentencePiece models for ALBERT.")
    actions = tokenizer.add_subparsers(dest="tokenizer_command",
                                       metavar="{train}")
    actions.required = True
    train = actions.add_parser(
        "train",
        help="Train a SentencePiece model with ALBERT's special tokens.",
        description=(
            "Train a SentencePiece model with ALBERT's special tokens "
            "(<pad>=0, <unk>=1, [CLS]=2, [SEP]=3, [MASK]=4) and "
            "normalisation; the result loads into AlbertTokenizer."))
    train.add_argument("--corpus", nargs="+", required=True, metavar="PATH",
                       help="Text files, directories (all *.txt inside) or "
                            "glob patterns.")
    train.add_argument("--vocab-size", type=int, required=True, metavar="N",
                       help="Vocabulary size (ALBERT uses 30000).")
    train.add_argument("--output", required=True, metavar="PATH",
                       help="Where to write the .model file.")
    train.add_argument("--model-type", default="unigram",
                       choices=["unigram", "bpe", "char", "word"],
                       help="SentencePiece algorithm (default: unigram, "
                            "as ALBERT).")
    train.add_argument("--no-lowercase", dest="lowercase",
                       action="store_false",
                       help="Keep case (released ALBERT models lower-case).")
    train.set_defaults(func=run_train)
    return tokenizer


def run_train(args):
    """Handler of `tokenizer train`; returns the process exit code."""
    from keras_albert.preprocessing import train_sentencepiece
    from keras_albert.pretraining.documents import expand_paths

    files = expand_paths(args.corpus)
    kwargs = {"vocabulary_size": args.vocab_size,
              "lowercase": args.lowercase}
    params = inspect.signature(train_sentencepiece).parameters
    if "model_type" in params:
        kwargs["model_type"] = args.model_type
    elif args.model_type != "unigram":
        raise SystemExit("This version of train_sentencepiece only trains "
                         "unigram models.")
    train_sentencepiece(files, args.output, **kwargs)
    print(f"Wrote {args.output} (vocabulary {args.vocab_size}, "
          f"{args.model_type}, {len(files)} corpus file(s)).")
    return 0
