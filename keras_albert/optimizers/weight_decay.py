"""Which variables decoupled weight decay applies to.

ALBERT's and BERT's reference optimizers decay every weight matrix and
embedding but no bias and no LayerNorm parameter: those set offsets and
scales, and pulling them towards 0 only hurts. Every AdamW of this package
asks `uses_weight_decay` so the rule is written once.
"""

# Substrings of `variable.path`. In every ALBERT model the LayerNorm
# parameters are `.../layer_norm/gamma` and `.../layer_norm/beta` and the
# biases `.../bias`, on all three backends.
NO_WEIGHT_DECAY = ("bias", "layer_norm")


def uses_weight_decay(path, no_weight_decay=NO_WEIGHT_DECAY):
    """Whether the variable at `path` is weight-decayed.

    Args:
        path: str. A `keras.Variable.path`, e.g.
            `"encoder/group_0_inner_0/attention/query/kernel"`.
        no_weight_decay: substrings of paths that are not decayed (default:
            biases and LayerNorm parameters).

    Returns:
        False when `path` contains one of `no_weight_decay`, else True.

    Example:
    ```python
    uses_weight_decay("pooler/kernel")                      # True
    uses_weight_decay("pooler/bias")                        # False
    uses_weight_decay("embeddings/layer_norm/gamma")        # False
    [v.path for v in model.trainable_variables
     if uses_weight_decay(v.path)]                          # what decays
    ```
    """
    return not any(part in path for part in no_weight_decay)
