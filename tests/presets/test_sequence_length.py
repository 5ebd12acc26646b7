"""A preprocessor built by `from_preset` never packs longer than the
backbone's positions: Hugging Face folders with 64 positions, long text."""

import numpy as np
import pytest

from keras_albert import AlbertBackbone
from keras_albert import AlbertClassifier
from keras_albert import AlbertMultipleChoice
from keras_albert import AlbertPreprocessor
from keras_albert import AlbertQuestionAnswerer
from keras_albert import AlbertTokenClassifier
from keras_albert import AlbertTokenizer
from keras_albert.presets import loader
from tests import hf_oracle
from tests.presets import sources

POSITIONS = hf_oracle.TINY_HF["max_position_embeddings"]
# Hundreds of pieces: far past 64 positions, and past 512 characters.
LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
TAGS = ["O", "B-X", "I-X"]

# (task class, transformers class, extra from_preset arguments)
TASKS = {
    "classifier": (AlbertClassifier, "AlbertForSequenceClassification",
                   {}),
    "token_classifier": (AlbertTokenClassifier,
                         "AlbertForTokenClassification",
                         {"labels": TAGS}),
    "question_answerer": (AlbertQuestionAnswerer,
                          "AlbertForQuestionAnswering", {}),
    "multiple_choice": (AlbertMultipleChoice, "AlbertForMultipleChoice",
                        {"num_choices": 2}),
}


def _tokenizer(spm_path):
    return AlbertTokenizer(proto=spm_path)


def _hf_dir(tmp_path, spm_path, hf_class, **config):
    hf = hf_oracle.hf_model(hf_class, num_labels=len(TAGS), **config)
    return sources.save_hf(hf, tmp_path / hf_class, spm_path=spm_path)


def _predict_long(model):
    """Runs the task's natural prediction on text longer than 64 pieces."""
    if isinstance(model, AlbertClassifier):
        logits = model.predict([LONG_TEXT, "short"], verbose=0)
        assert logits.shape == (2, model.num_classes)
    elif isinstance(model, AlbertTokenClassifier):
        (tags,) = model.predict_tags([LONG_TEXT])
        assert len(tags) == len(LONG_TEXT.split())
    elif isinstance(model, AlbertQuestionAnswerer):
        answers = model.predict_answers(
            {"question": ["What jumps over the dog?"],
             "context": [LONG_TEXT]}
        )
        assert len(answers) == 1
    else:
        chosen = model.predict_choices(
            {"article": [LONG_TEXT], "question": ["What jumps?"],
             "options": [["the fox " * 30, "the dog " * 30]]}
        )
        assert chosen.shape == (1,)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_from_hf_dir_packs_within_backbone_positions(tmp_path, spm_path,
                                                     task):
    task_cls, hf_class, kwargs = TASKS[task]
    path = _hf_dir(tmp_path, spm_path, hf_class)
    model = task_cls.from_preset(path, **kwargs)
    assert model.backbone.max_sequence_length == POSITIONS
    assert model.preprocessor.sequence_length == POSITIONS
    _predict_long(model)

    # Saved and restored whole: the length stays within the positions.
    model.save_to_preset(str(tmp_path / "saved"))
    restored = task_cls.from_preset(str(tmp_path / "saved"))
    assert restored.preprocessor.sequence_length == POSITIONS
    _predict_long(restored)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_explicit_longer_sequence_length_names_both_numbers(
    tmp_path, spm_path, task
):
    task_cls, hf_class, kwargs = TASKS[task]
    path = _hf_dir(tmp_path, spm_path, hf_class)
    with pytest.raises(ValueError, match=r"sequence_length=128 .*"
                       r"max_sequence_length=64"):
        task_cls.from_preset(path, sequence_length=128, **kwargs)
    shorter = task_cls.from_preset(path, sequence_length=32, **kwargs)
    assert shorter.preprocessor.sequence_length == 32


def test_backbone_preset_with_fresh_head(tmp_path, spm_path):
    """A backbone-only keras-albert preset with a tokenizer: the fresh
    task's preprocessor is capped too, and a longer request fails."""
    from keras_albert.presets import keras_albert_format as kaf

    backbone = AlbertBackbone(**hf_oracle.backbone_kwargs())
    backbone.save_to_preset(str(tmp_path))
    kaf.save_tokenizer(_tokenizer(spm_path), str(tmp_path))
    model = AlbertClassifier.from_preset(str(tmp_path), num_classes=2)
    assert model.preprocessor.sequence_length == POSITIONS
    _predict_long(model)
    with pytest.raises(ValueError, match="max_sequence_length=64"):
        AlbertClassifier.from_preset(str(tmp_path), num_classes=2,
                                     sequence_length=65)


def test_saved_longer_length_is_capped(tmp_path, spm_path):
    """Presets saved before the cap (a 512 preprocessor on 64 positions)
    load capped."""
    backbone = AlbertBackbone(**hf_oracle.backbone_kwargs())
    preprocessor = AlbertPreprocessor(_tokenizer(spm_path),
                                      sequence_length=512)
    AlbertClassifier(backbone, num_classes=2,
                     preprocessor=preprocessor).save_to_preset(str(tmp_path))
    restored = AlbertClassifier.from_preset(str(tmp_path))
    assert restored.preprocessor.sequence_length == POSITIONS
    _predict_long(restored)


def test_build_preprocessor_lengths(spm_path):
    tokenizer = _tokenizer(spm_path)
    build = loader.build_preprocessor
    # Class default (512) capped; saved value capped; explicit kept.
    assert build(AlbertPreprocessor, tokenizer, 64).sequence_length == 64
    assert build(AlbertPreprocessor, tokenizer, 1024).sequence_length == 512
    assert build(AlbertPreprocessor, tokenizer, 64,
                 {"sequence_length": 300}).sequence_length == 64
    assert build(AlbertPreprocessor, tokenizer, 64, {"sequence_length": 300},
                 sequence_length=16).sequence_length == 16
    # Without a backbone limit nothing changes.
    assert build(AlbertPreprocessor, tokenizer).sequence_length == 512
    with pytest.raises(ValueError, match=r"sequence_length=65 is longer "
                       r"than the backbone's max_sequence_length=64"):
        build(AlbertPreprocessor, tokenizer, 64, sequence_length=65)
    assert loader.checked_sequence_length(np.int64(8), 64) == 8
