"""A tokenizer's SentencePiece model outlives TensorFlow's kernel-cache
clears (`keras.utils.set_random_seed`, `clear_session`) and is freed with
the tokenizer."""

import gc

import keras
import pytest

from keras_albert.utils import compat

tf = pytest.importorskip("tensorflow")
TEXTS = ["the quick brown fox", "jumps over the lazy dog"]


def _ids(tokenizer):
    return [row.tolist() for row in tokenizer.tokenize_tf(TEXTS).numpy()]


def _dataset_ids(preprocessor):
    dataset = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2).map(
        preprocessor)
    return next(iter(dataset))["token_ids"].numpy().tolist()


def test_tokenizers_survive_seeding_and_clear_session(spm_path, capfd):
    from keras_albert import AlbertPreprocessor
    from keras_albert import AlbertTokenizer

    tokenizer = AlbertTokenizer(proto=spm_path)
    preprocessor = AlbertPreprocessor(tokenizer, sequence_length=16)
    eager, batched = _ids(tokenizer), _dataset_ids(preprocessor)
    for clear in (lambda: keras.utils.set_random_seed(1),
                  keras.backend.clear_session):
        clear()
        assert _dataset_ids(preprocessor) == batched
        assert _ids(tokenizer) == eager
    # TensorFlow logged no failed lookup of a deleted resource.
    assert "OP_REQUIRES failed" not in capfd.readouterr().err


def test_the_model_resource_is_freed_with_the_tokenizer(spm_path):
    from keras_albert import AlbertTokenizer
    from keras_albert.preprocessing.sentencepiece_resource import (
        SentencepieceModelResource,
    )

    tokenizer = AlbertTokenizer(proto=spm_path)
    resource = compat.sentence_piece_op(tokenizer)._model_resource
    assert isinstance(resource, SentencepieceModelResource)
    name = resource._shared_name
    other = AlbertTokenizer(proto=spm_path)
    assert compat.sentence_piece_op(other)._model_resource._shared_name != (
        name)
    handle = resource.resource_handle
    del tokenizer, resource
    gc.collect()
    with pytest.raises(tf.errors.NotFoundError):
        tf.raw_ops.DestroyResourceOp(resource=handle,
                                     ignore_lookup_error=False)
