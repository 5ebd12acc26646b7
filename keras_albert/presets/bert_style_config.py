"""The BERT-style config keys Google's and Hugging Face's ALBERT share."""

import logging

from keras_albert.presets.errors import PresetError
from keras_albert.utils import config_checks

logger = logging.getLogger("keras_albert")

# `AlbertBackbone` argument -> the key Google's `albert_config.json` and
# transformers' `config.json` give it, and its default (REQUIRED: none).
REQUIRED = object()
_KEYS = (
    ("vocabulary_size", "vocab_size", REQUIRED),
    ("num_layers", "num_hidden_layers", REQUIRED),
    ("num_heads", "num_attention_heads", REQUIRED),
    ("embedding_dim", "embedding_size", REQUIRED),
    ("hidden_dim", "hidden_size", REQUIRED),
    ("intermediate_dim", "intermediate_size", REQUIRED),
    ("num_hidden_groups", "num_hidden_groups", 1),
    ("inner_group_num", "inner_group_num", 1),
    ("dropout", "hidden_dropout_prob", 0.0),
    ("attention_dropout", "attention_probs_dropout_prob", 0.0),
    ("max_sequence_length", "max_position_embeddings", 512),
    ("num_segments", "type_vocab_size", 2),
    ("initializer_range", "initializer_range", 0.02),
)
# Argument -> key in the file, for errors that name what the user sees.
SOURCE_KEYS = {ours: theirs for ours, theirs, _ in _KEYS}
SOURCE_KEYS.update(activation="hidden_act",
                   layer_norm_epsilon="layer_norm_eps")


def check_keys(config, path, known, read):
    """Refuses near-misspellings of the keys we read; logs other unknown
    keys once at debug level.

    The rule: these files legitimately carry many keys we do not use
    (transformers' `PretrainedConfig` fields, `architectures`, `id2label`,
    research flags of Google's code), so an unknown key is an error only
    when it is not itself known and `difflib` finds it a close match (ratio
    >= 0.85) of a key we read, e.g. `num_hiden_layers`: the user meant to
    set something and the setting would silently not apply.

    Args:
        config: the parsed JSON object.
        path: the file, for the messages.
        known: every key the format defines (read or knowingly ignored).
        read: the keys whose misspellings are errors.
    """
    misspelled = config_checks.near_misspellings(
        config, set(known) | set(read), read)
    if misspelled:
        raise PresetError(f"{path}: " + "; ".join(
            f"unknown key {key!r} (did you mean {close!r}?)"
            for key, close in misspelled.items()
        ) + ". Fix the key: as it is, its setting would not apply.")
    ignored = sorted(k for k in config if k not in known and k not in read)
    if ignored:
        logger.debug("%s: ignoring keys keras-albert does not use: %s",
                     path, ", ".join(map(str, ignored)))


def backbone_config_from_bert_keys(config, activation, layer_norm_epsilon,
                                   missing_message):
    """`AlbertBackbone` arguments from `vocab_size`, `hidden_size`, ... keys.

    Google's `albert_config.json` and transformers' `config.json` name the
    architecture the same way; only the activation names and the LayerNorm
    epsilon differ, so the caller resolves those. Values are passed on as
    they are: `AlbertBackbone.check_config` checks their types and ranges
    (and the loader names the file and `SOURCE_KEYS` the key).

    Args:
        config: the parsed JSON dict.
        activation: our activation name for the config's `hidden_act`.
        layer_norm_epsilon: float.
        missing_message: format string with `{key}`, for a missing key.
    """
    arguments = dict(activation=activation,
                     layer_norm_epsilon=layer_norm_epsilon)
    for ours, theirs, default in _KEYS:
        if theirs in config:
            arguments[ours] = config[theirs]
        elif default is REQUIRED:
            raise PresetError(missing_message.format(key=repr(theirs)))
        else:
            arguments[ours] = default
    return arguments
