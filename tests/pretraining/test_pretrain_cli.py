"""`keras-albert pretrain` end to end on a tiny corpus and model."""

import argparse
import json
import os

import pytest

from keras_albert.pretraining.pretrain_cli import add_parser
from keras_albert.pretraining.pretrain_cli import config_from_args
from tests.conftest import TINY_CORPUS
from tests.pretraining.conftest import read_log

TINY_OVERRIDES = dict(num_layers=2, num_heads=2, embedding_dim=16,
                      hidden_dim=32, intermediate_dim=64,
                      max_sequence_length=32)


def parse(argv):
    parser = argparse.ArgumentParser(prog="keras-albert")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_defaults():
    args = parse(["pretrain", "--corpus", "a.txt", "--output", "out"])
    config = config_from_args(args, vocabulary_size=8000)
    assert config.preset == "base"
    assert config.backbone_overrides == {"vocabulary_size": 8000}
    assert (config.steps, config.batch_size, config.sequence_length) == (
        125_000, 32, 128)
    assert config.mixed_precision is None and config.strategy == "none"
    assert config.peak_learning_rate() == pytest.approx(0.00176 / 8 / 2**0.5)
    assert args.func.__name__ == "run_pretrain"


def test_pretrain_command_trains_tokenizer_and_saves_preset(tmp_path,
                                                             capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TINY_CORPUS) + "\n")
    out = tmp_path / "run"
    args = parse([
        "pretrain", "--corpus", str(corpus), "--output", str(out),
        "--backbone-config", json.dumps(TINY_OVERRIDES),
        "--vocab-size", "120", "--steps", "3", "--batch-size", "4",
        "--sequence-length", "32", "--max-predictions", "5",
        "--checkpoint-every", "2", "--log-every", "1",
        "--learning-rate", "1e-3"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "step 3/3" in printed and "Done: 3 updates" in printed
    assert (out / "tokenizer" / "spiece.model").is_file()
    assert [r["step"] for r in read_log(out)] == [1, 2, 3]

    from keras_albert import AlbertBackbone
    from keras_albert.presets import loader

    backbone = AlbertBackbone.from_preset(str(out / "preset"))
    tokenizer = loader.load_tokenizer(str(out / "preset"))
    assert tokenizer is not None
    assert backbone.vocabulary_size == tokenizer.vocabulary_size() <= 120
    assert backbone.num_layers == 2
    saved = json.loads((out / "pretraining_config.json").read_text())
    assert saved["steps"] == 3
    assert os.listdir(out / "checkpoints")
