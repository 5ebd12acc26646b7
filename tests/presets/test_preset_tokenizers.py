"""Every preset the library writes carries its tokenizer (`keras-albert
pretrain`'s: tests/training/test_pretrain_cli.py; the quickstart's:
tests/test_quickstart.py), a plain
`spiece.model` in a preset folder is read, `convert --tokenizer` adds one,
and the advice given when a preset has none works."""

import os
import shutil

import numpy as np
import pytest

from keras_albert.cli import main
from tests.conftest import TINY_CONFIG

TEXTS = ["the quick brown fox", "jumps over the lazy dog"]


def _ids(tokenizer, texts=TEXTS):
    ids = tokenizer.tokenize_tf(texts)
    return [row.tolist() for row in ids.numpy()] if hasattr(
        ids, "numpy") else ids


@pytest.fixture
def bare_backbone(tmp_path):
    """A backbone preset saved without a tokenizer."""
    from keras_albert import AlbertBackbone

    path = str(tmp_path / "bare")
    AlbertBackbone(**TINY_CONFIG).save_to_preset(path)
    assert not os.path.exists(os.path.join(path, "tokenizer.json"))
    return path


def test_a_plain_spiece_model_in_a_preset_folder_is_its_tokenizer(
        bare_backbone, spm_path):
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertTokenizer
    from keras_albert.presets import loader

    assert loader.load_tokenizer(bare_backbone) is None
    shutil.copy(spm_path, os.path.join(bare_backbone, "spiece.model"))
    tokenizer = loader.load_tokenizer(bare_backbone)
    assert _ids(tokenizer) == _ids(AlbertTokenizer(proto=spm_path))
    classifier = AlbertClassifier.from_preset(bare_backbone, num_classes=2)
    assert classifier.preprocessor is not None
    assert classifier.predict(TEXTS, verbose=0).shape == (2, 2)


def test_convert_tokenizer_writes_it_into_the_preset(bare_backbone, spm_path,
                                                     tmp_path):
    from keras_albert import AlbertTokenizer
    from keras_albert.presets import loader

    out = str(tmp_path / "with_tokenizer")
    assert main(["convert", bare_backbone, out, "--tokenizer",
                 spm_path]) == 0
    assert os.path.isfile(os.path.join(out, "tokenizer.json"))
    assert _ids(loader.load_tokenizer(out)) == _ids(
        AlbertTokenizer(proto=spm_path))
    # The Hugging Face format gets it as spiece.model.
    hf = str(tmp_path / "hf")
    assert main(["convert", bare_backbone, hf, "--format", "hf",
                 "--tokenizer", spm_path]) == 0
    with open(os.path.join(hf, "spiece.model"), "rb") as f, open(
            spm_path, "rb") as g:
        assert f.read() == g.read()


def test_convert_tokenizer_gives_a_task_without_one_a_preprocessor(
        spm_path, tmp_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertPretrainer

    pretrained = str(tmp_path / "pretrained")
    AlbertPretrainer(AlbertBackbone(**TINY_CONFIG)).save_to_preset(pretrained)
    out = str(tmp_path / "out")
    assert main(["convert", pretrained, out, "--tokenizer", spm_path]) == 0
    assert os.path.isfile(os.path.join(out, "tokenizer.json"))
    classifier = AlbertClassifier.from_preset(out, num_classes=3)
    assert classifier.preprocessor is not None

    # Converting the preset written with it keeps the tokenizer.
    again = str(tmp_path / "again")
    assert main(["convert", out, again]) == 0
    assert os.path.isfile(os.path.join(again, "tokenizer.json"))

    saved = str(tmp_path / "classifier")
    AlbertClassifier(AlbertBackbone(**TINY_CONFIG),
                     num_classes=2).save_to_preset(saved)
    with_tokenizer = str(tmp_path / "classifier_tok")
    assert main(["convert", saved, with_tokenizer, "--tokenizer",
                 spm_path]) == 0
    restored = AlbertClassifier.from_preset(with_tokenizer)
    assert restored.predict(TEXTS, verbose=0).shape == (2, 2)


def test_convert_refuses_a_tokenizer_larger_than_the_vocabulary(
        spm_path, tmp_path, capsys):
    from keras_albert import AlbertBackbone

    small = str(tmp_path / "small")
    AlbertBackbone(**dict(TINY_CONFIG, vocabulary_size=50)).save_to_preset(
        small)
    assert main(["convert", small, str(tmp_path / "out"), "--tokenizer",
                 spm_path]) == 1
    err = capsys.readouterr().err
    assert "embeds only 50 token ids" in err
    assert not os.path.exists(tmp_path / "out")


def _train_file(tmp_path):
    path = tmp_path / "train.tsv"
    # No header row: label in column 0, text in column 1.
    path.write_text("".join(f"{i % 2}\t{text}\n"
                            for i, text in enumerate(TEXTS * 4)))
    return str(path)


def test_finetune_advice_on_a_preset_without_tokenizer_works(
        bare_backbone, spm_path, tmp_path, capsys):
    from keras_albert.finetuning.finetune_cli import no_tokenizer_advice

    argv = ["finetune", "--task", "classify", "--train", _train_file(tmp_path),
            "--text-column", "1", "--label-column", "0", "--epochs", "1",
            "--batch-size", "4", "--no-progress"]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--preset", bare_backbone])
    advice = str(info.value)
    assert advice == no_tokenizer_advice(bare_backbone)
    assert f"cp spiece.model {bare_backbone}/" in advice
    assert "--tokenizer spiece.model" in advice

    # Way 1: the convert command the advice names (with our spiece.model).
    converted = str(tmp_path / "NEW_PRESET")
    assert main(["convert", bare_backbone, converted, "--tokenizer",
                 spm_path]) == 0
    assert main([*argv, "--preset", converted]) == 0
    # Way 2: copy spiece.model into the folder.
    shutil.copy(spm_path, os.path.join(bare_backbone, "spiece.model"))
    assert main([*argv, "--preset", bare_backbone]) == 0
    capsys.readouterr()


def test_finetune_output_and_label_names_travel_with_the_preset(
        tmp_path, spm_path):
    from keras_albert import AlbertBackbone
    from keras_albert import AlbertClassifier
    from keras_albert import AlbertTokenizer
    from keras_albert.presets.loader import save_preset

    preset = str(tmp_path / "preset")
    save_preset(AlbertBackbone(**TINY_CONFIG), preset,
                tokenizer=AlbertTokenizer(proto=spm_path))
    train = tmp_path / "train.tsv"
    train.write_text("sentence\tlabel\n" + "".join(
        f"{text}\t{'pos' if i % 2 else 'neg'}\n"
        for i, text in enumerate(TEXTS * 4)))
    out = str(tmp_path / "out")
    assert main(["finetune", "--task", "classify", "--preset", preset,
                 "--train", str(train), "--epochs", "1", "--batch-size", "4",
                 "--output", out, "--no-progress"]) == 0
    model = AlbertClassifier.from_preset(out)
    assert model.label_names == ["neg", "pos"]
    assert model.preprocessor is not None
    assert set(model.predict_labels(TEXTS)) <= {"neg", "pos"}
    np.testing.assert_allclose(model.predict_proba(TEXTS).sum(-1), 1.0,
                               rtol=1e-5)
