"""The published ALBERT architectures and where their weights live."""

_COMMON = dict(
    vocabulary_size=30000,
    embedding_dim=128,
    max_sequence_length=512,
    num_segments=2,
    num_hidden_groups=1,
    inner_group_num=1,
    activation="gelu_approximate",
    layer_norm_epsilon=1e-12,
    initializer_range=0.02,
)

_SIZES = {
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12,
                 intermediate_dim=3072),
    "large": dict(num_layers=24, hidden_dim=1024, num_heads=16,
                  intermediate_dim=4096),
    "xlarge": dict(num_layers=24, hidden_dim=2048, num_heads=16,
                   intermediate_dim=8192),
    "xxlarge": dict(num_layers=12, hidden_dim=4096, num_heads=64,
                    intermediate_dim=16384),
}

# KerasHub's names for the v2 checkpoints it republished.
_KAGGLE_NAMES = {
    "base": "albert_base_en_uncased",
    "large": "albert_large_en_uncased",
    "xlarge": "albert_extra_large_en_uncased",
    "xxlarge": "albert_extra_extra_large_en_uncased",
}


def _build_presets():
    presets = {}
    for size, dims in _SIZES.items():
        for version in ("v1", "v2"):
            # v1 trained with dropout 0.1; v2 dropped dropout entirely.
            dropout = 0.1 if version == "v1" else 0.0
            sources = {
                "hf": f"albert/albert-{size}-{version}",
                "google": (
                    "https://storage.googleapis.com/albert_models/"
                    f"albert_{size}_{version}.tar.gz"
                ),
            }
            if version == "v2":
                sources["kaggle"] = (
                    f"kaggle://keras/albert/keras/{_KAGGLE_NAMES[size]}"
                )
            presets[f"{size}-{version}"] = {
                "description": (
                    f"ALBERT-{size} {version}: {dims['num_layers']} layers, "
                    f"hidden {dims['hidden_dim']}, {dims['num_heads']} heads, "
                    "English, lower-cased, 30k SentencePiece vocabulary."
                ),
                "config": dict(
                    _COMMON, **dims, dropout=dropout,
                    attention_dropout=dropout,
                ),
                "lowercase": True,
                "sources": sources,
            }
    return presets


ALBERT_PRESETS = _build_presets()


def canonical_preset_name(name):
    """Maps `"base"`, `"albert-base-v2"`, `"albert_base_v2"`, `"BASE-V1"` to
    registry keys (`"base-v2"`, `"base-v1"`), or returns None."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower().replace("_", "-")
    if key.startswith("albert-"):
        key = key[len("albert-"):]
    if key in _SIZES:
        key = f"{key}-v2"
    return key if key in ALBERT_PRESETS else None


def list_presets():
    """Names of the built-in presets with their descriptions."""
    return {name: p["description"] for name, p in ALBERT_PRESETS.items()}
