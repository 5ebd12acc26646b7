"""Hugging Face `transformers` ALBERT names <-> Google's original names."""

import re

import numpy as np

_LAYER = re.compile(
    r"^encoder\.albert_layer_groups\.(\d+)\.albert_layers\.(\d+)\.(.+)$"
)

_BLOCK_PARTS = {
    "attention.query": "attention_1/self/query",
    "attention.key": "attention_1/self/key",
    "attention.value": "attention_1/self/value",
    "attention.dense": "attention_1/output/dense",
    "attention.LayerNorm": "LayerNorm",
    "ffn": "ffn_1/intermediate/dense",
    "ffn_output": "ffn_1/intermediate/output/dense",
    "full_layer_layer_norm": "LayerNorm_1",
}

_FIXED = {
    "embeddings.word_embeddings.weight": "bert/embeddings/word_embeddings",
    "embeddings.position_embeddings.weight":
        "bert/embeddings/position_embeddings",
    "embeddings.token_type_embeddings.weight":
        "bert/embeddings/token_type_embeddings",
    "embeddings.LayerNorm.weight": "bert/embeddings/LayerNorm/gamma",
    "embeddings.LayerNorm.bias": "bert/embeddings/LayerNorm/beta",
    "encoder.embedding_hidden_mapping_in.weight":
        "bert/encoder/embedding_hidden_mapping_in/kernel",
    "encoder.embedding_hidden_mapping_in.bias":
        "bert/encoder/embedding_hidden_mapping_in/bias",
    "pooler.weight": "bert/pooler/dense/kernel",
    "pooler.bias": "bert/pooler/dense/bias",
    "predictions.dense.weight": "cls/predictions/transform/dense/kernel",
    "predictions.dense.bias": "cls/predictions/transform/dense/bias",
    "predictions.LayerNorm.weight": "cls/predictions/transform/LayerNorm/gamma",
    "predictions.LayerNorm.bias": "cls/predictions/transform/LayerNorm/beta",
    "predictions.bias": "cls/predictions/output_bias",
    "sop_classifier.classifier.weight": "cls/seq_relationship/output_weights",
    "sop_classifier.classifier.bias": "cls/seq_relationship/output_bias",
    # AlbertForSequenceClassification's head; Google has no name for it, so
    # it maps to weight_layout's pseudo-names.
    "classifier.weight": "classifier/kernel",
    "classifier.bias": "classifier/bias",
    # AlbertForQuestionAnswering's start/end projection.
    "qa_outputs.weight": "qa_outputs/kernel",
    "qa_outputs.bias": "qa_outputs/bias",
}
_FIXED_REVERSE = {v: k for k, v in _FIXED.items()}

# Tensors that are tied copies or buffers in transformers, not parameters.
_IGNORED = {
    "predictions.decoder.weight",
    "predictions.decoder.bias",
    "embeddings.position_ids",
    "embeddings.token_type_ids",
}


def _strip_prefix(name):
    return name[len("albert."):] if name.startswith("albert.") else name


def hf_to_google_name(name):
    """Returns (google_name, transpose) or None for ignored/unknown names."""
    name = _strip_prefix(name)
    if name in _IGNORED:
        return None
    if name in _FIXED:
        google = _FIXED[name]
        # torch Linear stores [out, in]; Google kernels are [in, out]. The
        # SOP `output_weights` are stored [2, H] by both.
        transpose = google.endswith("/kernel")
        return google, transpose
    match = _LAYER.match(name)
    if not match:
        return None
    group, inner, rest = match.groups()
    part, _, leaf = rest.rpartition(".")
    if part not in _BLOCK_PARTS:
        return None
    suffix = _BLOCK_PARTS[part]
    if suffix.startswith("LayerNorm"):
        leaf = {"weight": "gamma", "bias": "beta"}[leaf]
        transpose = False
    else:
        leaf = {"weight": "kernel", "bias": "bias"}[leaf]
        transpose = leaf == "kernel"
    google = (
        f"bert/encoder/transformer/group_{group}/inner_group_{inner}/"
        f"{suffix}/{leaf}"
    )
    return google, transpose


def google_to_hf_name(google_name, prefix="albert."):
    """The transformers name (with `prefix` for the encoder part) and
    whether the array must be transposed."""
    if google_name in _FIXED_REVERSE:
        hf = _FIXED_REVERSE[google_name]
        is_head = google_name.startswith(("cls/", "classifier/",
                                          "qa_outputs/"))
        return (hf if is_head else prefix + hf), google_name.endswith(
            "/kernel"
        )
    match = re.match(
        r"^bert/encoder/transformer/group_(\d+)/inner_group_(\d+)/(.+)/"
        r"(kernel|bias|gamma|beta)$",
        google_name,
    )
    if not match:
        raise KeyError(google_name)
    group, inner, part, leaf = match.groups()
    reverse = {v: k for k, v in _BLOCK_PARTS.items()}
    hf_leaf = {"kernel": "weight", "gamma": "weight", "bias": "bias",
               "beta": "bias"}[leaf]
    hf = (
        f"{prefix}encoder.albert_layer_groups.{group}.albert_layers.{inner}."
        f"{reverse[part]}.{hf_leaf}"
    )
    return hf, leaf == "kernel"


def hf_state_to_google(state):
    """`{hf_name: array}` -> (`{google_name: array}`, unknown names)."""
    arrays, unknown = {}, []
    for name, value in state.items():
        mapped = hf_to_google_name(name)
        if mapped is None:
            stripped = _strip_prefix(name)
            if stripped not in _IGNORED:
                unknown.append(name)
            continue
        google, transpose = mapped
        value = np.asarray(value)
        arrays[google] = value.T if transpose else value
    return arrays, unknown


def google_to_hf_state(arrays, prefix="albert."):
    """`{google_name: array}` -> `{hf_name: array}` (torch layout).

    Args:
        arrays: Google-named arrays, e.g. from
            `weight_layout.model_google_arrays`.
        prefix: the encoder prefix; `"albert."` for the task classes
            (`AlbertFor...`), `""` for a bare `AlbertModel`.
    """
    out = {}
    for google_name, value in arrays.items():
        hf_name, transpose = google_to_hf_name(google_name, prefix=prefix)
        value = np.asarray(value)
        # Copies keep safetensors happy (it refuses non-contiguous views).
        out[hf_name] = np.ascontiguousarray(value.T if transpose else value)
    return out
