"""The BERT-style config keys Google's and Hugging Face's ALBERT share."""

from keras_albert.presets.errors import PresetError


def backbone_config_from_bert_keys(config, activation, layer_norm_epsilon,
                                   missing_message):
    """`AlbertBackbone` arguments from `vocab_size`, `hidden_size`, ... keys.

    Google's `albert_config.json` and transformers' `config.json` name the
    architecture the same way; only the activation names and the LayerNorm
    epsilon differ, so the caller resolves those.

    Args:
        config: the parsed JSON dict.
        activation: our activation name for the config's `hidden_act`.
        layer_norm_epsilon: float.
        missing_message: format string with `{key}`, for a missing key.
    """
    try:
        return dict(
            vocabulary_size=int(config["vocab_size"]),
            num_layers=int(config["num_hidden_layers"]),
            num_heads=int(config["num_attention_heads"]),
            embedding_dim=int(config["embedding_size"]),
            hidden_dim=int(config["hidden_size"]),
            intermediate_dim=int(config["intermediate_size"]),
            num_hidden_groups=int(config.get("num_hidden_groups", 1)),
            inner_group_num=int(config.get("inner_group_num", 1)),
            activation=activation,
            dropout=float(config.get("hidden_dropout_prob", 0.0)),
            attention_dropout=float(
                config.get("attention_probs_dropout_prob", 0.0)
            ),
            max_sequence_length=int(config.get("max_position_embeddings", 512)),
            num_segments=int(config.get("type_vocab_size", 2)),
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=float(config.get("initializer_range", 0.02)),
        )
    except KeyError as e:
        raise PresetError(missing_message.format(key=repr(e.args[0]))) from None
