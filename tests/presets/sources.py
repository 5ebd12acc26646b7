"""Writes tiny ALBERT checkpoints in every published layout, offline.

Each writer works from plain arrays or a `transformers` model, never from
keras-albert's own converters, so the readers under test are checked
against independent files.
"""

import json
import os

import numpy as np

from tests import hf_oracle

TWO_GROUPS = dict(num_hidden_groups=2, inner_group_num=2,
                  num_hidden_layers=4)


def save_hf(model, path, safe=True, spm_path=None):
    """`save_pretrained` in safetensors or `.bin`, plus `spiece.model`."""
    model.save_pretrained(str(path), safe_serialization=safe)
    if not safe:
        # transformers 5 always writes safetensors; produce a true
        # `.bin`-only folder the way older releases shipped.
        import torch

        st = os.path.join(str(path), "model.safetensors")
        if os.path.exists(st):
            os.remove(st)
        torch.save(model.state_dict(), os.path.join(str(path),
                                                    "pytorch_model.bin"))
    if spm_path is not None:
        with open(spm_path, "rb") as src, open(
            os.path.join(str(path), "spiece.model"), "wb"
        ) as dst:
            dst.write(src.read())
    return str(path)


def google_names(num_groups=1, inner=1, heads=True, classifier=False):
    """Google's original variable names for a tiny config, spelled out by
    hand (the oracle for the checkpoint reader)."""
    names = [
        "bert/embeddings/word_embeddings",
        "bert/embeddings/position_embeddings",
        "bert/embeddings/token_type_embeddings",
        "bert/embeddings/LayerNorm/gamma",
        "bert/embeddings/LayerNorm/beta",
        "bert/encoder/embedding_hidden_mapping_in/kernel",
        "bert/encoder/embedding_hidden_mapping_in/bias",
        "bert/pooler/dense/kernel",
        "bert/pooler/dense/bias",
    ]
    for g in range(num_groups):
        for k in range(inner):
            p = f"bert/encoder/transformer/group_{g}/inner_group_{k}/"
            for d in ("attention_1/self/query", "attention_1/self/key",
                      "attention_1/self/value", "attention_1/output/dense",
                      "ffn_1/intermediate/dense",
                      "ffn_1/intermediate/output/dense"):
                names += [p + d + "/kernel", p + d + "/bias"]
            for n in ("LayerNorm", "LayerNorm_1"):
                names += [p + n + "/gamma", p + n + "/beta"]
    if heads:
        names += [
            "cls/predictions/transform/dense/kernel",
            "cls/predictions/transform/dense/bias",
            "cls/predictions/transform/LayerNorm/gamma",
            "cls/predictions/transform/LayerNorm/beta",
            "cls/predictions/output_bias",
            "cls/seq_relationship/output_weights",
            "cls/seq_relationship/output_bias",
        ]
    if classifier:
        names += ["output_weights", "output_bias"]
    return names


def google_shape(name, cfg, num_labels=3):
    """Shape of a Google variable for an `hf_oracle` config dict."""
    V, E, H = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"]
    I, P, T = (cfg["intermediate_size"], cfg["max_position_embeddings"],
               cfg["type_vocab_size"])
    fixed = {
        "bert/embeddings/word_embeddings": (V, E),
        "bert/embeddings/position_embeddings": (P, E),
        "bert/embeddings/token_type_embeddings": (T, E),
        "bert/embeddings/LayerNorm/gamma": (E,),
        "bert/embeddings/LayerNorm/beta": (E,),
        "bert/encoder/embedding_hidden_mapping_in/kernel": (E, H),
        "bert/encoder/embedding_hidden_mapping_in/bias": (H,),
        "cls/predictions/transform/dense/kernel": (H, E),
        "cls/predictions/transform/dense/bias": (E,),
        "cls/predictions/transform/LayerNorm/gamma": (E,),
        "cls/predictions/transform/LayerNorm/beta": (E,),
        "cls/predictions/output_bias": (V,),
        "cls/seq_relationship/output_weights": (2, H),
        "cls/seq_relationship/output_bias": (2,),
        "output_weights": (num_labels, H),
        "output_bias": (num_labels,),
    }
    if name in fixed:
        return fixed[name]
    if name.endswith("ffn_1/intermediate/dense/kernel"):
        return (H, I)
    if name.endswith("ffn_1/intermediate/dense/bias"):
        return (I,)
    if name.endswith("output/dense/kernel") and "ffn_1" in name:
        return (I, H)
    if name.endswith("/kernel"):
        return (H, H)
    return (H,)


def random_google_arrays(names, cfg, seed=0, num_labels=3):
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        shape = google_shape(name, cfg, num_labels)
        scale = 0.1 if ("LayerNorm" in name) else 0.05
        value = rng.normal(0, scale, shape).astype("float32")
        if name.endswith("gamma"):
            value += 1.0
        out[name] = value
    return out


def google_to_hf_by_hand(arrays, cfg):
    """The transformers state dict for Google-named arrays, written out
    independently of keras_albert.presets.huggingface_names."""
    import torch

    H = cfg["hidden_size"]
    state = {}

    def put(hf, google, transpose=False):
        if google in arrays:
            v = arrays[google]
            state[hf] = torch.tensor(v.T.copy() if transpose else v)

    e = "albert.embeddings."
    put(e + "word_embeddings.weight", "bert/embeddings/word_embeddings")
    put(e + "position_embeddings.weight",
        "bert/embeddings/position_embeddings")
    put(e + "token_type_embeddings.weight",
        "bert/embeddings/token_type_embeddings")
    put(e + "LayerNorm.weight", "bert/embeddings/LayerNorm/gamma")
    put(e + "LayerNorm.bias", "bert/embeddings/LayerNorm/beta")
    put("albert.encoder.embedding_hidden_mapping_in.weight",
        "bert/encoder/embedding_hidden_mapping_in/kernel", True)
    put("albert.encoder.embedding_hidden_mapping_in.bias",
        "bert/encoder/embedding_hidden_mapping_in/bias")
    put("albert.pooler.weight", "bert/pooler/dense/kernel", True)
    put("albert.pooler.bias", "bert/pooler/dense/bias")
    for g in range(cfg.get("num_hidden_groups", 1)):
        for k in range(cfg.get("inner_group_num", 1)):
            gp = f"bert/encoder/transformer/group_{g}/inner_group_{k}/"
            hp = f"albert.encoder.albert_layer_groups.{g}.albert_layers.{k}."
            for hf, gd in (("attention.query", "attention_1/self/query"),
                           ("attention.key", "attention_1/self/key"),
                           ("attention.value", "attention_1/self/value"),
                           ("attention.dense", "attention_1/output/dense"),
                           ("ffn", "ffn_1/intermediate/dense"),
                           ("ffn_output",
                            "ffn_1/intermediate/output/dense")):
                put(hp + hf + ".weight", gp + gd + "/kernel", True)
                put(hp + hf + ".bias", gp + gd + "/bias")
            for hf, gd in (("attention.LayerNorm", "LayerNorm"),
                           ("full_layer_layer_norm", "LayerNorm_1")):
                put(hp + hf + ".weight", gp + gd + "/gamma")
                put(hp + hf + ".bias", gp + gd + "/beta")
    put("predictions.dense.weight", "cls/predictions/transform/dense/kernel",
        True)
    put("predictions.dense.bias", "cls/predictions/transform/dense/bias")
    put("predictions.LayerNorm.weight",
        "cls/predictions/transform/LayerNorm/gamma")
    put("predictions.LayerNorm.bias",
        "cls/predictions/transform/LayerNorm/beta")
    put("predictions.bias", "cls/predictions/output_bias")
    put("sop_classifier.classifier.weight",
        "cls/seq_relationship/output_weights")
    put("sop_classifier.classifier.bias", "cls/seq_relationship/output_bias")
    put("classifier.weight", "output_weights")
    put("classifier.bias", "output_bias")
    assert H  # shapes are the arrays' own
    return state


def google_config(cfg):
    """`albert_config.json` of Google's release for an `hf_oracle` config
    (Google's "gelu" is the tanh approximation)."""
    return {
        "attention_probs_dropout_prob": 0.0,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "embedding_size": cfg["embedding_size"],
        "hidden_size": cfg["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_hidden_groups": cfg.get("num_hidden_groups", 1),
        "net_structure_type": 0,
        "layers_to_keep": [],
        "gap_size": 0,
        "num_memory_blocks": 0,
        "inner_group_num": cfg.get("inner_group_num", 1),
        "down_scale_factor": 1,
        "type_vocab_size": cfg["type_vocab_size"],
        "vocab_size": cfg["vocab_size"],
    }


def write_google_release(path, arrays, cfg, spm_path=None, extra=None):
    """A folder like Google's archives: albert_config.json, a TF1
    checkpoint saved by `tf.compat.v1.train.Saver` under the given names
    (plus `global_step` and LAMB slots, as in real releases)."""
    import tensorflow as tf

    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "albert_config.json"), "w") as f:
        json.dump(google_config(cfg), f)
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for name, value in dict(arrays, **(extra or {})).items():
            variables.append(tf.compat.v1.get_variable(
                name, initializer=tf.constant(value), use_resource=False
            ))
        tf.compat.v1.train.get_or_create_global_step()
        first = sorted(arrays)[0]
        variables.append(tf.compat.v1.get_variable(
            first + "/adam_m", initializer=tf.zeros_like(arrays[first])
        ))
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(path, "model.ckpt-best"))
    if spm_path is not None:
        with open(spm_path, "rb") as src, open(
            os.path.join(path, "30k-clean.model"), "wb"
        ) as dst:
            dst.write(src.read())
    return str(path)


def tiny_cfg(**overrides):
    return dict(hf_oracle.TINY_HF, **overrides)
