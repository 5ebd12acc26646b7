"""Tiny random Hugging Face ALBERT models used as numerical oracles."""

import numpy as np

TINY_HF = dict(
    vocab_size=160,
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64,
    type_vocab_size=2,
    hidden_act="gelu_new",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    classifier_dropout_prob=0.0,
)


def hf_config(**overrides):
    import transformers

    return transformers.AlbertConfig(**dict(TINY_HF, **overrides))


def hf_model(cls_name="AlbertModel", seed=0, **overrides):
    """A randomly initialised transformers model with non-trivial weights."""
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(hf_config(**overrides)).eval()
    # Default init leaves LayerNorms at 1/0 and biases at 0, which would
    # hide mistakes in their wiring; randomise every parameter.
    with torch.no_grad():
        for name, p in model.named_parameters():
            # Realistic scales (init std 0.02) keep float32 rounding small.
            is_norm = "LayerNorm" in name or "norm" in name
            p.copy_(torch.randn_like(p) * (0.1 if is_norm else 0.05))
            if is_norm and name.endswith("weight"):
                p.add_(1.0)
    return model


def hf_state(model):
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def backbone_kwargs(**overrides):
    """Our backbone config matching `hf_config(**overrides)`."""
    cfg = dict(TINY_HF, **overrides)
    return dict(
        vocabulary_size=cfg["vocab_size"],
        num_layers=cfg["num_hidden_layers"],
        num_heads=cfg["num_attention_heads"],
        embedding_dim=cfg["embedding_size"],
        hidden_dim=cfg["hidden_size"],
        intermediate_dim=cfg["intermediate_size"],
        max_sequence_length=cfg["max_position_embeddings"],
        num_segments=cfg["type_vocab_size"],
        num_hidden_groups=cfg.get("num_hidden_groups", 1),
        inner_group_num=cfg.get("inner_group_num", 1),
        activation=cfg["hidden_act"],
    )


def batch_with_padding(vocab=160, batch=3, length=12, seed=0):
    """Token ids with [CLS]/[SEP], two segments and padded rows."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocab, size=(batch, length)).astype("int32")
    lengths = [length, length - 4, 5][:batch]
    padding_mask = np.zeros((batch, length), "int32")
    segment_ids = np.zeros((batch, length), "int32")
    for row, n in enumerate(lengths):
        padding_mask[row, :n] = 1
        token_ids[row, 0] = 2
        token_ids[row, n - 1] = 3
        token_ids[row, n:] = 0
        segment_ids[row, n // 2:n] = 1
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }


def hf_forward(model, inputs, **extra):
    import torch

    with torch.no_grad():
        return model(
            input_ids=torch.tensor(inputs["token_ids"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["segment_ids"],
                                        dtype=torch.long),
            attention_mask=torch.tensor(inputs["padding_mask"],
                                        dtype=torch.long),
            **extra,
        )
