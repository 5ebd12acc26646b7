"""Layer-wise learning-rate decay for ALBERT's shared parameters.

BERT-style layer-wise decay gives layer `i` of `L` the rate
`lr * decay ** (L - i)`. ALBERT reuses one set of weights across layers, so
"layer" here is a distinct parameter group, ordered by the first layer that
runs it: with full sharing there is one encoder group (embeddings get
`decay**2`, the encoder `decay`, the heads `1`); with `num_hidden_groups=G`
there are G; with `sharing="none"` every layer is its own group, as in BERT.
"""


def parameter_depths(model):
    """`{variable.path: depth}` for every trainable variable of `model`.

    Depth 0 is the embeddings (factorised embedding and its projection),
    depths `1..G` the distinct encoder parameter groups in the order the
    encoder first runs them, and `G + 1` the pooler and every task head.

    Returns:
        `(depths, top)` where `top = G + 1` is the heads' depth.
    """
    backbone = getattr(model, "backbone", model)
    embeddings = backbone.get_layer("embeddings")
    encoder = backbone.get_layer("encoder")

    first_use = {}
    for layer_index, row in enumerate(encoder.block_index):
        for block_index in row:
            for variable in encoder.blocks[block_index].trainable_variables:
                first_use.setdefault(id(variable), layer_index)
    ranks = {layer: rank for rank, layer in enumerate(sorted(
        set(first_use.values())))}
    top = len(ranks) + 1

    depths = {}
    for variable in model.trainable_variables:
        key = id(variable)
        if key in first_use:
            depths[variable.path] = 1 + ranks[first_use[key]]
        else:
            depths[variable.path] = top
    for variable in embeddings.trainable_variables:
        depths[variable.path] = 0
    return depths, top


def layerwise_learning_rate_scales(model, layer_decay):
    """`{variable.path: layer_decay ** (top - depth)}` for `model`.

    Args:
        model: an `AlbertBackbone` or a task model with `.backbone`.
        layer_decay: float in (0, 1]. 1 means no decay.

    Example:
    ```python
    scales = layerwise_learning_rate_scales(classifier, 0.8)
    scales["embeddings/token_embeddings"]   # 0.64 with full sharing
    ```
    """
    if not 0.0 < float(layer_decay) <= 1.0:
        raise ValueError(
            f"`layer_decay` must be in (0, 1]; got {layer_decay}. 1 means "
            "no decay, 0.75-0.95 is usual."
        )
    depths, top = parameter_depths(model)
    return {
        path: float(layer_decay) ** (top - depth)
        for path, depth in depths.items()
    }
