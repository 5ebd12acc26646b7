"""Names every ALBERT weight by Google's original checkpoint variable name.

Google's names (TF layout, kernels `[in, out]`) are the common language of
all converters: Hugging Face, KerasHub and original checkpoints each map to
and from these names, so each format needs one table, not one per pair.
"""

from keras_albert.presets.errors import PresetError

_BLOCK = "bert/encoder/transformer/group_{g}/inner_group_{k}/"


def _block_variables(block, prefix):
    att, ffn = block.attention, block.feedforward
    out = {}
    for name, dense in (
        ("attention_1/self/query", att.query_dense),
        ("attention_1/self/key", att.key_dense),
        ("attention_1/self/value", att.value_dense),
        ("attention_1/output/dense", att.output_dense),
        ("ffn_1/intermediate/dense", ffn.intermediate_dense),
        ("ffn_1/intermediate/output/dense", ffn.output_dense),
    ):
        out[prefix + name + "/kernel"] = dense.kernel
        out[prefix + name + "/bias"] = dense.bias
    out[prefix + "LayerNorm/gamma"] = att.layer_norm.gamma
    out[prefix + "LayerNorm/beta"] = att.layer_norm.beta
    out[prefix + "LayerNorm_1/gamma"] = ffn.layer_norm.gamma
    out[prefix + "LayerNorm_1/beta"] = ffn.layer_norm.beta
    return out


def backbone_variables(backbone):
    """`{google_name: keras.Variable}` for an `AlbertBackbone`."""
    if backbone.sharing != "all":
        raise PresetError(
            f"Backbones with sharing={backbone.sharing!r} have no equivalent "
            "in the original ALBERT checkpoint layout (only 'all')."
        )
    emb = backbone.embeddings
    out = {
        "bert/embeddings/word_embeddings": emb.token_embeddings,
        "bert/embeddings/position_embeddings": emb.position_embeddings,
        "bert/embeddings/token_type_embeddings": emb.segment_embeddings,
        "bert/embeddings/LayerNorm/gamma": emb.layer_norm.gamma,
        "bert/embeddings/LayerNorm/beta": emb.layer_norm.beta,
        "bert/encoder/embedding_hidden_mapping_in/kernel":
            emb.projection.kernel,
        "bert/encoder/embedding_hidden_mapping_in/bias": emb.projection.bias,
        "bert/pooler/dense/kernel": backbone.pooler.kernel,
        "bert/pooler/dense/bias": backbone.pooler.bias,
    }
    encoder = backbone.encoder
    seen_groups = set()
    for i, row in enumerate(encoder.block_index):
        group = encoder.group_of_layer(i)
        if group in seen_groups:
            continue
        seen_groups.add(group)
        for k, index in enumerate(row):
            out.update(
                _block_variables(
                    encoder.blocks[index], _BLOCK.format(g=group, k=k)
                )
            )
    return out


def mlm_head_variables(head):
    return {
        "cls/predictions/transform/dense/kernel": head.dense.kernel,
        "cls/predictions/transform/dense/bias": head.dense.bias,
        "cls/predictions/transform/LayerNorm/gamma": head.layer_norm.gamma,
        "cls/predictions/transform/LayerNorm/beta": head.layer_norm.beta,
        "cls/predictions/output_bias": head.output_bias,
    }


def sop_head_variables(head):
    # Google stores `output_weights` as [2, H], i.e. transposed.
    return {
        "cls/seq_relationship/output_weights": (head.dense.kernel, "T"),
        "cls/seq_relationship/output_bias": head.dense.bias,
    }


# Google's release has no sequence-classification head, so these names are
# ours. They follow Google's convention (kernel `[in, out]`) and are what the
# Hugging Face `classifier.*` tensors of `AlbertForSequenceClassification`
# and the `output_weights`/`output_bias` of Google's fine-tuning scripts map
# to.
CLASSIFIER_KERNEL = "classifier/kernel"
CLASSIFIER_BIAS = "classifier/bias"


def classifier_head_variables(head):
    return {CLASSIFIER_KERNEL: head.kernel, CLASSIFIER_BIAS: head.bias}


def classifier_head(model):
    """The dense head of a sequence-classification task, or None.

    `AlbertClassifier` exposes it as `model.head` (a `Dense` on the pooled
    output); only a plain `Dense` qualifies, so task models with other
    kinds of `head` are not mistaken for classifiers.
    """
    import keras

    head = getattr(model, "head", None)
    if isinstance(head, keras.layers.Dense) and model is not getattr(
        model, "backbone", model
    ):
        return head
    return None


# Extractive QA's start/end projection: Hugging Face's `qa_outputs` of
# `AlbertForQuestionAnswering` (Google's SQuAD scripts use other heads).
SPAN_KERNEL = "qa_outputs/kernel"
SPAN_BIAS = "qa_outputs/bias"


def span_head(model):
    """The `Dense(2)` start/end head of a question-answering task, or None.

    `AlbertQuestionAnswerer` exposes it as `model.span_head`.
    """
    import keras

    head = getattr(model, "span_head", None)
    return head if isinstance(head, keras.layers.Dense) else None


def model_variables(model):
    """Google-named variables of a backbone or task model.

    Values are a `keras.Variable`, or `(variable, "T")` when the Google
    array is the transpose of the Keras one.
    """
    backbone = getattr(model, "backbone", model)
    out = dict(backbone_variables(backbone))
    if getattr(model, "mlm_head", None) is not None:
        out.update(mlm_head_variables(model.mlm_head))
    if getattr(model, "sop_head", None) is not None:
        out.update(sop_head_variables(model.sop_head))
    head = classifier_head(model)
    if head is not None:
        out.update(classifier_head_variables(head))
    head = span_head(model)
    if head is not None:
        out.update({SPAN_KERNEL: head.kernel, SPAN_BIAS: head.bias})
    return out


def model_google_arrays(model):
    """`{google_name: np.ndarray}` of `model`, in Google's layout (the
    inverse of `assign_google_arrays`); what every exporter writes from."""
    import keras

    out = {}
    for name, target in model_variables(model).items():
        variable, transpose = (
            target if isinstance(target, tuple) else (target, None)
        )
        value = keras.ops.convert_to_numpy(variable)
        out[name] = value.T if transpose else value
    return out


def _google_shape(target):
    variable, transpose = (
        target if isinstance(target, tuple) else (target, None)
    )
    shape = tuple(variable.shape)
    return shape[::-1] if transpose else shape


def assign_google_arrays(model, arrays, strict_backbone=True):
    """Assigns `{google_name: np.ndarray}` into `model`.

    Returns the list of the model's Google names that `arrays` lacked (heads
    the source did not have). Raises `PresetError` listing every mis-shaped
    tensor, every encoder tensor (`bert/...`) the model has no place for
    (e.g. a group the config does not declare), and every missing backbone
    tensor when `strict_backbone`. Head tensors the model lacks (`cls/...`,
    e.g. a pretraining checkpoint loaded into a backbone) are ignored.
    """
    import numpy as np

    targets = model_variables(model)
    missing, wrong_shape = [], []
    assignments = []
    for name, target in targets.items():
        variable, transpose = (
            target if isinstance(target, tuple) else (target, None)
        )
        if name not in arrays:
            missing.append(name)
            continue
        value = np.asarray(arrays[name])
        if transpose:
            value = value.T
        if tuple(value.shape) != tuple(variable.shape):
            wrong_shape.append(
                f"{name}: checkpoint {tuple(np.asarray(arrays[name]).shape)}"
                f", model expects {_google_shape(target)}"
            )
            continue
        assignments.append((variable, value))
    unexpected = [
        f"{name}: checkpoint {tuple(np.shape(arrays[name]))}"
        for name in sorted(arrays)
        if name.startswith("bert/") and name not in targets
    ]
    problems = []
    # The pooler is optional: transformers' MLM-only models have none.
    backbone_missing = [
        m for m in missing
        if m.startswith("bert/") and not m.startswith("bert/pooler/")
    ]
    if wrong_shape:
        problems.append("mis-shaped tensors:\n  " + "\n  ".join(wrong_shape))
    if unexpected:
        problems.append(
            "unexpected tensors (not in the model's configuration):\n  "
            + "\n  ".join(unexpected)
        )
    if strict_backbone and backbone_missing:
        problems.append(
            "missing tensors:\n  " + "\n  ".join(
                f"{m}: model expects {_google_shape(targets[m])}"
                for m in sorted(backbone_missing)
            )
        )
    if problems:
        raise PresetError(
            "The checkpoint does not match the model; " + "; ".join(problems)
        )
    for variable, value in assignments:
        variable.assign(value.astype(variable.dtype))
    return [m for m in missing if m not in backbone_missing]


def google_architecture(arrays):
    """The `transformers` architecture of a Google checkpoint, named after
    the richest head it holds: a classifier, MLM + SOP, MLM, or none."""
    if CLASSIFIER_KERNEL in arrays:
        return "AlbertForSequenceClassification"
    if "cls/seq_relationship/output_weights" in arrays:
        return "AlbertForPreTraining"
    if "cls/predictions/output_bias" in arrays:
        return "AlbertForMaskedLM"
    return "AlbertModel"
