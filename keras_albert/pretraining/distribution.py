"""Data-parallel pretraining: `tf.distribute` strategies and JAX's
`keras.distribution.DataParallel` behind one small interface.

Everything backend-specific about distributing `AlbertPretrainer` lives here;
`trainer.pretrain` only asks for `strategy_scope(kind)`.

| kind | backend | what it builds |
|---|---|---|
| `"none"` | any | nothing: the default device |
| `"mirrored"` | TensorFlow | `tf.distribute.MirroredStrategy` over the local GPUs, or over logical CPUs made with `configure_logical_cpus(n)` |
| `"multi_worker"` | TensorFlow | `tf.distribute.MultiWorkerMirroredStrategy` from the `TF_CONFIG` environment variable |
| `"tpu"` | TensorFlow | `tf.distribute.TPUStrategy` over `TPUClusterResolver(tpu)` |
| `"data_parallel"` | JAX | `keras.distribution.DataParallel` over all devices |

In every case `batch_size` is the *global* batch: the strategy splits each
batch across replicas and all-reduces the gradients, so 1 and N replicas
follow the same trajectory (up to float rounding).

The TPU path is written from the TensorFlow documentation and cannot be
exercised on the CPU-only machines this project is tested on. On a Cloud TPU
VM run `keras-albert pretrain --strategy tpu ...` (`tpu=""` or `"local"`
means the TPU attached to this VM; otherwise pass the TPU name or
`grpc://` address through `make_strategy("tpu", tpu=...)`). TPUs need static
shapes, which pretraining batches have (`drop_remainder=True`).
"""

import contextlib
import json
import os

STRATEGIES = ("none", "mirrored", "multi_worker", "tpu", "data_parallel")

# Strategies are process-wide: TensorFlow allows one
# MultiWorkerMirroredStrategy (or one TPU system initialisation) per process,
# so `make_strategy` hands back the same object on later calls.
_CACHE = {}


def configure_logical_cpus(count):
    """Splits the host CPU into `count` logical devices (for testing
    `"mirrored"` without GPUs).

    TensorFlow fixes its devices when its runtime starts, so call this before
    any TensorFlow op runs (importing `keras_albert` is fine; building a
    dataset or a model is not).

    Args:
        count: int. Number of logical CPU devices.

    Returns:
        The list of logical CPU device names.

    Example:
    ```python
    configure_logical_cpus(2)
    with strategy_scope("mirrored") as strategy:
        strategy.num_replicas_in_sync  # 2
    ```
    """
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * int(count))
    except RuntimeError as e:
        raise RuntimeError(
            "configure_logical_cpus must run before TensorFlow initialises "
            "its devices (before any dataset, model or tensor is made)."
        ) from e
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _require_backend(kind, backend_name):
    import keras

    if keras.backend.backend() != backend_name:
        raise ValueError(
            f"strategy {kind!r} needs the {backend_name} backend (set "
            f"KERAS_BACKEND={backend_name}); the current backend is "
            f"{keras.backend.backend()!r}. Use 'mirrored'/'multi_worker'/"
            "'tpu' with TensorFlow and 'data_parallel' with JAX.")


def make_strategy(kind="none", tpu=None, devices=None):
    """Builds (once per process) the distribution object for `kind`.

    Args:
        kind: one of `STRATEGIES`.
        tpu: TPU name or address for `"tpu"` (default: the local TPU).
        devices: optional device list for `"mirrored"`/`"data_parallel"`
            (default: all local GPUs/TPUs, else all CPU devices).

    Returns:
        A `tf.distribute.Strategy` (TensorFlow kinds), a
        `keras.distribution.DataParallel` (`"data_parallel"`) or `None`.

    Example:
    ```python
    strategy = make_strategy("multi_worker")  # reads TF_CONFIG
    ```
    """
    kind = (kind or "none").replace("-", "_")
    if kind not in STRATEGIES:
        raise ValueError(f"Unknown strategy {kind!r}; use one of {STRATEGIES}.")
    if kind == "none":
        return None
    key = (kind, tpu, tuple(devices) if devices else None)
    if key in _CACHE:
        return _CACHE[key]
    if kind == "data_parallel":
        _require_backend(kind, "jax")
        import keras

        strategy = keras.distribution.DataParallel(
            devices=devices or keras.distribution.list_devices())
    else:
        _require_backend(kind, "tensorflow")
        import tensorflow as tf

        if kind == "mirrored":
            if devices is None:
                gpus = tf.config.list_logical_devices("GPU")
                devices = [d.name for d in (
                    gpus or tf.config.list_logical_devices("CPU"))]
            strategy = tf.distribute.MirroredStrategy(devices=devices)
        elif kind == "multi_worker":
            if "TF_CONFIG" not in os.environ:
                raise ValueError(
                    "strategy 'multi_worker' reads the cluster from the "
                    "TF_CONFIG environment variable, which is not set.")
            # RING collectives work everywhere (NCCL is GPU-only); the
            # strategy must be created before TensorFlow starts its runtime.
            strategy = tf.distribute.MultiWorkerMirroredStrategy(
                communication_options=tf.distribute.experimental.
                CommunicationOptions(
                    implementation=tf.distribute.experimental.
                    CommunicationImplementation.RING))
        else:  # tpu: documented path, untestable without a TPU.
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
                tpu=tpu or "")
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            strategy = tf.distribute.TPUStrategy(resolver)
    _CACHE[key] = strategy
    return strategy


@contextlib.contextmanager
def strategy_scope(kind="none", **kwargs):
    """Context in which to build, compile and fit a distributed model.

    Args:
        kind: one of `STRATEGIES`, or an already built strategy /
            `keras.distribution.Distribution` (or `None`).
        **kwargs: forwarded to `make_strategy`.

    Yields:
        The strategy object (or `None` for `"none"`).

    Example:
    ```python
    with strategy_scope("mirrored") as strategy:
        pretrainer = keras_albert.AlbertPretrainer(backbone)
        pretrainer.compile()
        pretrainer.fit(dataset, steps_per_epoch=100)
    ```
    """
    strategy = make_strategy(kind, **kwargs) if (
        kind is None or isinstance(kind, str)) else kind
    if strategy is None:
        yield None
    else:
        with strategy.scope():
            yield strategy


def num_replicas(strategy):
    """Number of data-parallel replicas of `strategy` (1 for `None`)."""
    if strategy is None:
        return 1
    if hasattr(strategy, "num_replicas_in_sync"):
        return int(strategy.num_replicas_in_sync)
    mesh = getattr(strategy, "device_mesh", None)
    return int(mesh.devices.size) if mesh is not None else 1


def is_multi_worker(strategy):
    """Whether `strategy` is a `tf.distribute.MultiWorkerMirroredStrategy`."""
    if strategy is None or not hasattr(strategy, "extended"):
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy=None):
    """Whether this process should write checkpoints, logs and the preset.

    With `MultiWorkerMirroredStrategy` that is the `chief` task, or worker 0
    of a cluster without one; with JAX multi-process, process 0; otherwise
    always. Other workers still train (their collectives are needed) but
    write nothing.
    """
    tf_config = os.environ.get("TF_CONFIG")
    if strategy is not None and tf_config and hasattr(strategy, "extended"):
        task = json.loads(tf_config).get("task", {})
        cluster = json.loads(tf_config).get("cluster", {})
        task_type, index = task.get("type"), int(task.get("index", 0))
        if task_type == "chief":
            return True
        if task_type == "worker":
            return "chief" not in cluster and index == 0
        return False
    if strategy is not None and not hasattr(strategy, "extended"):
        import jax

        return jax.process_index() == 0
    return True
