"""`keras-albert tokenizer train` makes a model AlbertTokenizer loads."""

import argparse

from keras_albert.pretraining import tokenizer_cli
from tests.conftest import TINY_CORPUS


def _parser():
    parser = argparse.ArgumentParser(prog="keras-albert")
    tokenizer_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_tokenizer_train_cli(tmp_path, capsys):
    from keras_albert.preprocessing import AlbertTokenizer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    half = len(TINY_CORPUS) // 2
    (corpus / "a.txt").write_text("\n".join(TINY_CORPUS[:half]))
    (corpus / "b.txt").write_text("\n".join(TINY_CORPUS[half:]))
    output = tmp_path / "out" / "spiece.model"
    output.parent.mkdir()
    args = _parser().parse_args([
        "tokenizer", "train", "--corpus", str(corpus / "a.txt"),
        str(corpus / "b.txt"), "--vocab-size", "150", "--output",
        str(output)])
    assert args.model_type == "unigram" and args.lowercase
    assert args.func(args) == 0
    assert "Wrote" in capsys.readouterr().out

    tokenizer = AlbertTokenizer(proto=str(output))
    vocab = tokenizer.get_vocabulary()
    # Tiny corpora may yield fewer pieces than asked for.
    assert tokenizer.vocabulary_size() == len(vocab) <= 150
    assert vocab[:5] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert (tokenizer.pad_token_id, tokenizer.cls_token_id,
            tokenizer.sep_token_id, tokenizer.mask_token_id) == (0, 2, 3, 4)
    ids = tokenizer.tokenize(["The QUICK brown fox."])
    ids = ids.numpy().tolist() if hasattr(ids, "numpy") else list(ids)
    assert len(ids[0]) > 0 and 1 not in ids[0][:2]


def test_tokenizer_cli_options():
    args = _parser().parse_args([
        "tokenizer", "train", "--corpus", "x.txt", "--vocab-size", "10",
        "--output", "m.model", "--no-lowercase", "--model-type", "bpe"])
    assert not args.lowercase and args.model_type == "bpe"
