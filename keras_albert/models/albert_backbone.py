"""The ALBERT backbone: factorized embedding, shared encoder, pooler."""

import inspect

import keras

from keras_albert.layers.activations import canonical_activation_name
from keras_albert.layers.factorized_embedding import FactorizedEmbedding
from keras_albert.layers.shared_transformer_encoder import (
    SharedTransformerEncoder,
)
from keras_albert.models.backbone_arguments import check_backbone_arguments
from keras_albert.models.functional_model import FunctionalModel
from keras_albert.models.model_contract import ModelContract
from keras_albert.models.quantization import config_entry
from keras_albert.presets import loader
from keras_albert.utils.batch_checks import BatchChecks
from keras_albert.utils.graph_checks import assert_token_ids
from keras_albert.utils.input_validation import TOKEN_INPUTS
from keras_albert.utils.input_validation import check_static_shapes
from keras_albert.utils.input_validation import is_concrete


@keras.saving.register_keras_serializable(package="keras_albert")
class AlbertBackbone(FunctionalModel, ModelContract):
    """ALBERT encoder network ("A Lite BERT", arXiv 1909.11942).

    A functional model with inputs `token_ids`, `segment_ids` and
    `padding_mask` (each `(batch, length)` ints) and outputs
    `sequence_output` `(batch, length, hidden_dim)` and `pooled_output`
    `(batch, hidden_dim)` (tanh dense over `[CLS]`).

    Args:
        vocabulary_size: int. Number of token ids `V`.
        num_layers: int. Transformer steps.
        num_heads: int. Attention heads.
        embedding_dim: int. Embedding width `E`.
        hidden_dim: int. Hidden width `H`.
        intermediate_dim: int. Feed-forward inner width.
        num_hidden_groups: int. Parameter groups (original default 1).
        inner_group_num: int. Blocks per group (original default 1).
        sharing: str. `"all"` (ALBERT), `"attention"`, `"ffn"` or `"none"`.
        activation: str. Hidden activation; ALBERT uses the tanh
            approximation of GELU (`"gelu_approximate"`, alias `"gelu_new"`).
        dropout: float. Hidden dropout (0.1 for v1 models, 0 for v2).
        attention_dropout: float. Attention-probability dropout.
        max_sequence_length: int. Number of learned positions.
        num_segments: int. Number of segment ids.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal init.
        dtype: optional dtype policy, e.g. `"mixed_bfloat16"`.

    An unknown argument name (with a did-you-mean suggestion) or a value of
    the wrong type or range raises a ValueError naming the argument (see
    `backbone_arguments.check_backbone_arguments`).

    Example:
    ```python
    backbone = keras_albert.AlbertBackbone(
        vocabulary_size=300, num_layers=2, num_heads=2, embedding_dim=16,
        hidden_dim=32, intermediate_dim=64, max_sequence_length=64,
    )
    outputs = backbone({
        "token_ids": np.array([[2, 15, 16, 3, 0]]),
        "segment_ids": np.zeros((1, 5), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 0]]),
    })
    outputs["sequence_output"].shape  # (1, 5, 32)

    # The published architectures, randomly initialised:
    base = keras_albert.AlbertBackbone.from_preset("base", load_weights=False)
    ```
    """

    task_name = "backbone"
    hf_architecture = "AlbertModel"
    # A backbone serves embeddings, and with a tokenizer raw strings.
    text_signatures = True

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        embedding_dim,
        hidden_dim,
        intermediate_dim,
        num_hidden_groups=1,
        inner_group_num=1,
        sharing="all",
        activation="gelu_approximate",
        dropout=0.0,
        attention_dropout=0.0,
        max_sequence_length=512,
        num_segments=2,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        dtype=None,
        **kwargs,
    ):
        # Every way of building a backbone (kwargs, from_config, presets,
        # converted configs) goes through this check: unknown names and
        # bad values fail here, naming the argument, not deep in a layer.
        checked = check_backbone_arguments(dict(
            kwargs,
            vocabulary_size=vocabulary_size, num_layers=num_layers,
            num_heads=num_heads, embedding_dim=embedding_dim,
            hidden_dim=hidden_dim, intermediate_dim=intermediate_dim,
            num_hidden_groups=num_hidden_groups,
            inner_group_num=inner_group_num, sharing=sharing,
            activation=activation, dropout=dropout,
            attention_dropout=attention_dropout,
            max_sequence_length=max_sequence_length,
            num_segments=num_segments,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
        ))
        vocabulary_size = checked["vocabulary_size"]
        num_layers = checked["num_layers"]
        num_heads = checked["num_heads"]
        embedding_dim = checked["embedding_dim"]
        hidden_dim = checked["hidden_dim"]
        intermediate_dim = checked["intermediate_dim"]
        num_hidden_groups = checked["num_hidden_groups"]
        inner_group_num = checked["inner_group_num"]
        dropout = checked["dropout"]
        attention_dropout = checked["attention_dropout"]
        max_sequence_length = checked["max_sequence_length"]
        num_segments = checked["num_segments"]
        layer_norm_epsilon = checked["layer_norm_epsilon"]
        initializer_range = checked["initializer_range"]
        self.embeddings = FactorizedEmbedding(
            vocabulary_size=vocabulary_size,
            embedding_dim=embedding_dim,
            hidden_dim=hidden_dim,
            max_sequence_length=max_sequence_length,
            num_segments=num_segments,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=dtype,
            name="embeddings",
        )
        self.encoder = SharedTransformerEncoder(
            num_layers=num_layers,
            hidden_dim=hidden_dim,
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            num_hidden_groups=num_hidden_groups,
            inner_group_num=inner_group_num,
            sharing=sharing,
            activation=activation,
            dropout=dropout,
            attention_dropout=attention_dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=dtype,
            name="encoder",
        )
        self.pooler = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=initializer_range
            ),
            dtype=dtype,
            name="pooler",
        )

        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input(
            shape=(None,), dtype="int32", name="segment_ids"
        )
        padding_mask = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        x = self.embeddings(token_ids, segment_ids)
        x = self.encoder(x, padding_mask=padding_mask)
        pooled = self.pooler(x[:, 0, :])
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs={"sequence_output": x, "pooled_output": pooled},
            **kwargs,
        )
        if dtype is not None:
            # A functional model ignores `dtype`: without this the backbone
            # reported (and saved in its config) float32 while its layers
            # ran `dtype`, and heads built with its policy ran in float32.
            self.dtype_policy = keras.dtype_policies.get(dtype)
        self.vocabulary_size = int(vocabulary_size)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.num_hidden_groups = int(num_hidden_groups)
        self.inner_group_num = int(inner_group_num)
        self.sharing = sharing
        self.activation = canonical_activation_name(activation)
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.max_sequence_length = int(max_sequence_length)
        self.num_segments = int(num_segments)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.initializer_range = float(initializer_range)

    def call(self, inputs, training=None, mask=None):
        return super().call(self.checked_inputs(inputs), training=training,
                            mask=mask)

    def checked_inputs(self, inputs):
        """`inputs` (the token-id dict) checked before any gather: static
        shapes now, and in a TensorFlow graph (tf.function, SavedModel),
        where values are unknown now, ids and lengths by assertions in the
        graph. Task models that run the backbone's layers directly (not
        through `call`) check their inputs here."""
        if isinstance(inputs, dict) and {
            "token_ids", "segment_ids", "padding_mask"
        } <= set(inputs):
            check_static_shapes(
                inputs["token_ids"], inputs["segment_ids"],
                inputs["padding_mask"], self.max_sequence_length,
            )
            token_ids = inputs["token_ids"]
            if keras.backend.backend() == "tensorflow" and not (
                is_concrete(token_ids)
                or keras.backend.is_keras_tensor(token_ids)
            ):
                checked = assert_token_ids(
                    *(inputs[name] for name in TOKEN_INPUTS),
                    vocabulary_size=self.vocabulary_size,
                    num_segments=self.num_segments,
                    max_sequence_length=self.max_sequence_length,
                )
                inputs = dict(inputs, **dict(zip(TOKEN_INPUTS, checked)))
        elif isinstance(inputs, dict):
            missing = {"token_ids", "segment_ids", "padding_mask"} - set(inputs)
            raise ValueError(
                f"AlbertBackbone inputs are missing {sorted(missing)}. "
                "Pass a dict with `token_ids`, `segment_ids` and "
                "`padding_mask` (an `AlbertPreprocessor` makes one from text)."
            )
        return inputs

    def predict(self, x, *args, **kwargs):
        """Keras `predict`, with every batch checked first (ids, lengths:
        a `ValueError`, or for `tf.data` datasets an
        `InvalidArgumentError` with the same message; see
        `BatchChecks`)."""
        checks = BatchChecks(
            vocabulary_size=self.vocabulary_size,
            num_segments=self.num_segments,
            max_sequence_length=self.max_sequence_length,
        )
        if type(x).__module__.startswith("tensorflow"):
            x = checks.dataset(x)
        elif inspect.isgenerator(x):
            x = checks.generator(x)
        else:
            checks.check_inputs(x)
        return super().predict(x, *args, **kwargs)

    @property
    def token_embedding(self):
        """The `V x E` token table, shared with the MLM decoder."""
        return self.embeddings.token_embeddings

    def serving_outputs(self, outputs, inputs, **options):
        """`pooled_output` and `sequence_output`."""
        return {
            "pooled_output": outputs["pooled_output"],
            "sequence_output": outputs["sequence_output"],
        }

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "num_hidden_groups": self.num_hidden_groups,
            "inner_group_num": self.inner_group_num,
            "sharing": self.sharing,
            "activation": self.activation,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
            # Which layers `quantize` converted (nothing when float).
            **config_entry(self),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @staticmethod
    def check_config(config):
        """`config` (a dict of backbone arguments, possibly partial)
        checked and normalised; the loaders call it to name the file of a
        bad value. Raises ValueError naming the argument."""
        return check_backbone_arguments(config)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds a backbone from a named preset or a preset directory.

        Args:
            preset: a name (`"base"`, `"large-v1"`, ...; see
                `keras_albert.list_presets()`) or a directory written by
                `save_to_preset`.
            load_weights: bool. Load pretrained weights; `False` gives the
                architecture, randomly initialised.
            **kwargs: config overrides, e.g. `dropout=0.0` or `dtype`.
        """
        return loader.load_backbone(cls, preset, load_weights=load_weights,
                                    **kwargs)

    def save_to_preset(self, preset_dir, format="keras_albert"):
        """Writes the backbone to `preset_dir`.

        Args:
            preset_dir: output directory.
            format: `"keras_albert"` (config + weights; `from_preset`
                restores this backbone exactly), `"hf"` (a folder
                `transformers.AlbertModel.from_pretrained` loads) or
                `"google"` (Google's original checkpoint layout).
        """
        loader.save_preset(self, preset_dir, format=format)
