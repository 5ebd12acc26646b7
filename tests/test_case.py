"""Shared contract checks for keras_albert's layers, models, tasks and
preprocessors, in the spirit of `keras_hub/src/tests/test_case.py` but as
plain functions for pytest.

Each `run_*_test` runs every check of its kind and fails with an
`AssertionError` that names the check:

- `run_layer_test`: build + call (shapes, dtypes, weight counts), symbolic
  call, `get_config`/`from_config` (every argument kept, same outputs with
  the same weights), `.keras` saving inside a tiny functional model, eager
  vs compiled call, no recompilation on repeated eager calls (JAX), and
  mixed precision.
- `run_backbone_test`: call, config round trip, `.keras` saving,
  `save_to_preset`/`from_preset`, compiled `predict`, mixed precision.
- `run_task_test`: the backbone's checks for a task, plus one `fit` step
  and a prediction on the task's natural data (raw strings, words,
  questions and contexts, RACE dicts).
- `run_preprocessor_test`: output keys, dtypes and shapes, config round
  trip (same outputs), a batch of one, and `tf.data`.

Mixed precision means `PRECISION_POLICY` (`"mixed_bfloat16"`): every float
output has its compute dtype (bfloat16) and every variable stays float32.

On the torch backend the "compiled" call is Keras' compiled predict step,
which for torch is Keras' default `jit_compile=False`: `torch.compile`
(dynamo) needs more than a minute per tiny layer on CPU.
"""

import json
import os

import keras
import numpy as np
from keras import tree

try:
    import tensorflow as tf
except ImportError:  # pragma: no cover - every test environment has TF
    tf = None

PRECISION_POLICY = "mixed_bfloat16"
# Same computation, same weights: only the order of float operations may
# differ (XLA fuses, the eager path does not).
COMPILED_ATOL = 1e-5


# -- conversions and comparisons ---------------------------------------------
def to_numpy(x):
    """`x` with every tensor as a NumPy array and every ragged tensor as
    nested lists, so outputs of every backend and of `tf.data` compare."""
    if x is None or isinstance(x, (str, bytes, int, float, bool)):
        return x
    if tf is not None and isinstance(x, tf.RaggedTensor):
        return x.to_list()
    if tf is not None and isinstance(x, tf.Tensor):
        return x.numpy()
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(v) for v in x)
    if isinstance(x, (np.ndarray, np.generic)):
        return x
    return keras.ops.convert_to_numpy(x)


def _structure(x):
    """Lists and tuples as tuples, so structures compare by content."""
    if isinstance(x, dict):
        return {k: _structure(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return tuple(_structure(v) for v in x)
    return x


def assert_same_values(actual, expected, atol=0.0, what="outputs"):
    """Same structure and values (within `atol`; 0 means exactly equal).

    Ragged values (nested lists) compare element by element.
    """
    actual, expected = to_numpy(actual), to_numpy(expected)
    if isinstance(expected, dict):
        got = sorted(actual) if isinstance(actual, dict) else actual
        assert isinstance(actual, dict) and set(actual) == set(expected), (
            f"{what}: keys {got!r} != {sorted(expected)}"
        )
        for key in expected:
            assert_same_values(actual[key], expected[key], atol,
                               f"{what}[{key!r}]")
        return
    if isinstance(expected, (list, tuple)) and not _is_dense_list(expected):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(
            expected), f"{what}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_values(a, e, atol, f"{what}[{i}]")
        return
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} != {expected.shape}"
    )
    if atol == 0.0 or expected.dtype.kind not in "fc":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(
            actual.astype("float64"), expected.astype("float64"),
            atol=atol, rtol=0.0, err_msg=what,
        )


def _is_dense_list(x):
    """A (nested) list of numbers with a rectangular shape."""
    try:
        array = np.asarray(x)
    except ValueError:
        return False
    return array.dtype.kind in "biuf"


def shapes_of(outputs):
    """The nested shapes of `outputs` (tuples, lists read as tuples)."""
    if isinstance(outputs, dict):
        return {k: shapes_of(v) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return tuple(shapes_of(v) for v in outputs)
    return tuple(outputs.shape)


def _dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def _is_float(x):
    return _dtype(x) in ("float16", "bfloat16", "float32", "float64")


def _float_tensors(outputs):
    return [t for t in tree.flatten(outputs) if _is_float(t)]


def assert_float_dtype(outputs, dtype, what):
    """Every float tensor of `outputs` has `dtype`."""
    floats = _float_tensors(outputs)
    assert floats, f"{what}: no float output to check"
    got = [_dtype(t) for t in floats]
    assert all(d == dtype for d in got), (
        f"{what}: float outputs have dtypes {got}, expected {dtype}"
    )


def _json(config, what):
    try:
        return json.dumps(config, sort_keys=True)
    except TypeError as e:
        raise AssertionError(f"{what}: get_config() is not JSON: {e}") from e


def _is_plain(value):
    """A value a config stores as is (JSON scalars and lists of them)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


def assert_config_keeps_arguments(config, init_kwargs, not_in_config=(),
                                  what="get_config()"):
    """Every constructor argument is in `config` with the value given.

    Arguments named in `not_in_config` (objects an owner passes in, such as
    a tied embedding layer) must not be in it; arguments that are objects
    (a backbone, a preprocessor) only need to be present.
    """
    for key, value in init_kwargs.items():
        if key in not_in_config:
            assert key not in config, (
                f"{what} stores {key!r}, which the owner passes in"
            )
            continue
        assert key in config, f"{what} forgets the argument {key!r}"
        if _is_plain(value):
            stored = config[key]
            if isinstance(value, (list, tuple)):
                value, stored = list(value), list(stored)
            assert stored == value, (
                f"{what} stores {key}={config[key]!r}, but the layer was "
                f"built with {key}={init_kwargs[key]!r}"
            )


def _call(layer, data, **kwargs):
    """Calls `layer` on `data`: a dict holds the call's named tensor
    arguments, anything else is the single positional input."""
    if isinstance(data, dict):
        return layer(**data, **kwargs)
    return layer(data, **kwargs)


def _symbolic(data):
    def symbolic(x):
        return keras.KerasTensor(np.shape(x), dtype=str(np.asarray(x).dtype))

    return tree.map_structure(symbolic, data)


def _inputs_like(data):
    """`keras.Input`s for a tiny functional model around a layer."""
    def make(name, x):
        x = np.asarray(x)
        return keras.Input(shape=x.shape[1:], dtype=str(x.dtype), name=name)

    if isinstance(data, dict):
        return {k: make(k, v) for k, v in data.items()}
    return make("inputs", data)


def _resolve(init_kwargs, dtype):
    """`init_kwargs` itself, or what a factory gives for `dtype`."""
    if callable(init_kwargs):
        return dict(init_kwargs(dtype))
    kwargs = dict(init_kwargs)
    if dtype is not None:
        kwargs["dtype"] = dtype
    return kwargs


def _load_keras_file(path, what):
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # noqa: BLE001 - any failure fails the check
        raise AssertionError(
            f"{what}: the saved .keras file does not load: "
            f"{type(e).__name__}: {e}"
        ) from e


def _check_sublayer_policies(model, policy, what, weighted_only=False):
    """Every sublayer computes in `policy`'s compute dtype and keeps
    variables in its variable dtype (InputLayers have no policy to keep)."""
    policy = keras.dtype_policies.get(policy)
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if weighted_only and not layer._trainable_variables and not (
            layer._non_trainable_variables
        ):
            continue
        assert layer.compute_dtype == policy.compute_dtype, (
            f"{what}: sublayer {layer.name!r} ({type(layer).__name__}) "
            f"computes in {layer.compute_dtype}, not {policy.compute_dtype}"
        )
        assert layer.variable_dtype == policy.variable_dtype, (
            f"{what}: sublayer {layer.name!r} ({type(layer).__name__}) "
            f"keeps variables in {layer.variable_dtype}, not "
            f"{policy.variable_dtype}"
        )


def _check_variables(model, dtype, what):
    for weight in model.weights:
        assert _dtype(weight) == dtype, (
            f"{what}: variable {weight.path} is {_dtype(weight)}, "
            f"expected {dtype}"
        )


# -- layers ------------------------------------------------------------------
def run_layer_test(
    cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    *,
    tmp_path,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=0,
    call_kwargs=None,
    not_in_config=(),
    run_saving_check=True,
    run_compiled_check=True,
    run_recompile_check=True,
    run_precision_check=True,
    float_outputs=True,
):
    """Runs every layer check.

    Args:
        cls: the layer class.
        init_kwargs: constructor arguments; or a function of the dtype
            policy (None for the default) returning them, for layers that
            take other layers (built under that policy) as arguments.
        input_data: the single input array, or a dict of the call's named
            tensor arguments (e.g. `{"x": ..., "padding_mask": ...}`).
        expected_output_shape: the output's shape; nested tuples/dicts for
            nested outputs.
        tmp_path: a directory for saved files.
        expected_num_trainable_weights: int, checked when given.
        expected_num_non_trainable_weights: int.
        call_kwargs: non-tensor call arguments for every call (e.g.
            `{"return_hidden_states": True}`).
        not_in_config: constructor arguments the owner passes in (a tied
            embedding layer); `from_config` gets them back from
            `init_kwargs`.
        run_saving_check: save and load a `.keras` file. Off only for
            layers that cannot be loaded on their own (they are saved
            through the model that owns them).
        run_compiled_check: compare the eager call with a compiled one.
        run_recompile_check: on JAX, a second eager call compiles nothing.
        run_precision_check: the mixed precision check.
        float_outputs: False for layers whose outputs are all integers
            (e.g. an argmax): their dtypes are compared between the eager
            and the symbolic call instead of against the compute dtype.
    """
    kwargs = _resolve(init_kwargs, None)
    call_kwargs = dict(call_kwargs or {})

    # Build and call.
    layer = cls(**kwargs)
    outputs = _call(layer, input_data, **call_kwargs)
    assert layer.built, f"{cls.__name__} is not built after its first call"
    assert _structure(shapes_of(outputs)) == _structure(
        expected_output_shape), (
        f"{cls.__name__}: output shape {shapes_of(outputs)} != "
        f"{expected_output_shape}"
    )
    if float_outputs:
        assert_float_dtype(outputs, layer.compute_dtype,
                           f"{cls.__name__} call")
    if run_recompile_check:
        check_eager_call_does_not_recompile(layer, input_data, call_kwargs)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == (
            expected_num_trainable_weights), (
            f"{cls.__name__}: {len(layer.trainable_weights)} trainable "
            f"weights, expected {expected_num_trainable_weights}"
        )
    assert len(layer.non_trainable_weights) == (
        expected_num_non_trainable_weights), (
        f"{cls.__name__}: {len(layer.non_trainable_weights)} non-trainable "
        f"weights, expected {expected_num_non_trainable_weights}"
    )

    # Symbolic call: the same shapes and dtypes without running.
    symbolic = _call(cls(**kwargs), _symbolic(input_data), **call_kwargs)
    assert _structure(shapes_of(symbolic)) == _structure(
        expected_output_shape), (
        f"{cls.__name__}: symbolic output shape {shapes_of(symbolic)} != "
        f"{expected_output_shape}"
    )
    if float_outputs:
        assert_float_dtype(symbolic, layer.compute_dtype,
                           f"{cls.__name__} symbolic call")
    else:
        eager_dtypes = [_dtype(t) for t in tree.flatten(outputs)]
        assert eager_dtypes == [_dtype(t) for t in tree.flatten(symbolic)]
        assert not any(map(_is_float, tree.flatten(outputs))), eager_dtypes

    check_layer_config(cls, layer, kwargs, input_data, outputs,
                       call_kwargs=call_kwargs, not_in_config=not_in_config)

    if run_saving_check or run_compiled_check:
        inputs = _inputs_like(input_data)
        model = keras.Model(inputs,
                            _call(cls(**kwargs), inputs, **call_kwargs))
        model_outputs = model(input_data)
        if run_saving_check:
            check_layer_saving(cls, model, input_data, model_outputs,
                               tmp_path)
        if run_compiled_check:
            check_compiled_call(model, input_data, model_outputs,
                                what=cls.__name__)

    if run_precision_check:
        check_layer_precision(cls, init_kwargs, input_data,
                              call_kwargs=call_kwargs,
                              not_in_config=not_in_config)


def check_eager_call_does_not_recompile(layer, input_data, call_kwargs=None):
    """On JAX, calling a built layer eagerly again on inputs of the same
    shapes reuses its compiled kernels: XLA compiles nothing. (A fresh
    closure per call handed to a JAX control-flow op would recompile on
    every call.) Other backends have no such cache to check."""
    if keras.config.backend() != "jax":
        return
    import jax

    compiles = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(event)

    _call(layer, input_data, **(call_kwargs or {}))
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        _call(layer, input_data, **(call_kwargs or {}))
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert not compiles, (
        f"{type(layer).__name__}: a repeated eager call on JAX compiled "
        f"{len(compiles)} XLA computation(s) again"
    )


def check_layer_config(cls, layer, init_kwargs, input_data, outputs,
                       call_kwargs=None, not_in_config=()):
    """`get_config` keeps every argument; `from_config` rebuilds a layer
    with the same config and, given the same weights, the same outputs."""
    name = cls.__name__
    config = layer.get_config()
    _json(config, name)
    assert_config_keeps_arguments(config, init_kwargs, not_in_config,
                                  f"{name}.get_config()")
    owned = {k: init_kwargs[k] for k in not_in_config}
    revived = cls.from_config({**config, **owned})
    assert revived.get_config() == config, (
        f"{name}: from_config(get_config()) has another config:\n"
        f"{revived.get_config()}\n!=\n{config}"
    )
    if not owned:
        serialized = json.loads(
            _json(keras.saving.serialize_keras_object(layer), name)
        )
        clone = keras.saving.deserialize_keras_object(serialized)
        assert type(clone) is cls and clone.get_config() == config, (
            f"{name}: serialize/deserialize_keras_object gives "
            f"{type(clone).__name__} with config {clone.get_config()}"
        )
    call_kwargs = dict(call_kwargs or {})
    _call(revived, input_data, **call_kwargs)
    assert [tuple(w.shape) for w in revived.weights] == [
        tuple(w.shape) for w in layer.weights
    ], f"{name}: from_config built other weights"
    revived.set_weights(layer.get_weights())
    assert_same_values(_call(revived, input_data, **call_kwargs), outputs,
                       what=f"{name} after from_config(get_config())")


def check_layer_saving(cls, model, input_data, outputs, tmp_path):
    """A `.keras` file of `model` (a tiny functional model around a `cls`
    layer) loads back a `cls` layer giving the same outputs."""
    path = os.path.join(str(tmp_path), f"{cls.__name__}.keras")
    model.save(path)
    restored = _load_keras_file(path, f"{cls.__name__} in a model")
    assert any(isinstance(sub, cls) for sub in restored.layers), (
        f"the loaded model holds no {cls.__name__}"
    )
    assert_same_values(restored(input_data), outputs,
                       what=f"{cls.__name__} after .keras round trip")


def check_compiled_call(model, input_data, expected, what):
    """A compiled (XLA on TF and JAX) predict step gives the eager outputs."""
    jit = keras.config.backend() != "torch"
    model.compile(jit_compile=jit)
    compiled = model.predict_on_batch(input_data)
    assert_same_values(compiled, expected, atol=COMPILED_ATOL,
                       what=f"{what}: compiled vs eager call")


def check_layer_precision(cls, init_kwargs, input_data, call_kwargs=None,
                          not_in_config=(), policy=PRECISION_POLICY):
    """Under `policy` the outputs have its compute dtype, every variable its
    variable dtype, every sublayer the policy, and the policy survives
    `get_config`/`from_config`."""
    policy = keras.dtype_policies.get(policy)
    name = f"{cls.__name__} under {policy.name}"
    kwargs = _resolve(init_kwargs, policy)
    call_kwargs = dict(call_kwargs or {})
    layer = cls(**kwargs)
    outputs = _call(layer, input_data, **call_kwargs)
    assert_float_dtype(outputs, policy.compute_dtype, name)
    symbolic = _call(cls(**kwargs), _symbolic(input_data), **call_kwargs)
    assert_float_dtype(symbolic, policy.compute_dtype, f"{name}, symbolic")
    _check_variables(layer, policy.variable_dtype, name)
    _check_sublayer_policies(layer, policy, name)
    owned = {k: kwargs[k] for k in not_in_config}
    revived = cls.from_config({**layer.get_config(), **owned})
    assert revived.dtype_policy.name == policy.name, (
        f"{name}: from_config(get_config()) has policy "
        f"{revived.dtype_policy.name}"
    )
    _check_sublayer_policies(revived, policy, f"{name} after from_config")


# -- backbones ---------------------------------------------------------------
def run_backbone_test(cls, init_kwargs, input_data, expected_output_shape, *,
                      tmp_path, run_precision_check=True):
    """Runs every backbone check.

    Args:
        cls: the backbone class.
        init_kwargs: constructor arguments.
        input_data: a dict of token arrays.
        expected_output_shape: dict of output shapes.
        tmp_path: a directory for saved files.
        run_precision_check: the mixed precision check.
    """
    name = cls.__name__
    backbone = cls(**init_kwargs)
    outputs = backbone(input_data)
    assert _structure(shapes_of(outputs)) == _structure(
        expected_output_shape), (
        f"{name}: output shapes {shapes_of(outputs)} != "
        f"{expected_output_shape}"
    )
    assert_float_dtype(outputs, "float32", name)

    check_model_config(cls, backbone, init_kwargs, input_data, outputs)
    check_model_saving(backbone, input_data, outputs, tmp_path)
    check_preset_round_trip(backbone, input_data, outputs, tmp_path)
    predicted = backbone.predict(input_data, verbose=0)
    assert_same_values(predicted, outputs, atol=COMPILED_ATOL,
                       what=f"{name}: compiled predict vs eager call")
    if run_precision_check:
        check_backbone_precision(cls, init_kwargs, input_data)


def check_model_config(cls, model, init_kwargs, input_data, outputs):
    """`get_config` keeps every argument (JSON); `from_config` rebuilds the
    same config and, with the same weights, the same outputs."""
    name = cls.__name__
    config = model.get_config()
    _json(config, name)
    assert_config_keeps_arguments(config, init_kwargs,
                                  what=f"{name}.get_config()")
    revived = cls.from_config(config)
    assert revived.get_config() == config, (
        f"{name}: from_config(get_config()) has another config:\n"
        f"{revived.get_config()}\n!=\n{config}"
    )
    serialized = json.loads(
        _json(keras.saving.serialize_keras_object(model), name)
    )
    clone = keras.saving.deserialize_keras_object(serialized)
    assert type(clone) is cls, (
        f"{name}: deserialize_keras_object gives {type(clone).__name__}"
    )
    revived.set_weights(model.get_weights())
    assert_same_values(revived(input_data), outputs,
                       what=f"{name} after from_config(get_config())")


def check_model_saving(model, input_data, outputs, tmp_path):
    """A `.keras` file restores the class, its config and its outputs."""
    name = type(model).__name__
    path = os.path.join(str(tmp_path), f"{name}.keras")
    model.save(path)
    restored = _load_keras_file(path, name)
    assert type(restored) is type(model), (
        f"{name}: .keras file loads as {type(restored).__name__}"
    )
    assert restored.get_config() == model.get_config(), (
        f"{name}: config changed through .keras saving"
    )
    assert_same_values(restored(input_data), outputs,
                       what=f"{name} after .keras round trip")
    return restored


def check_preset_round_trip(model, input_data, outputs, tmp_path):
    """`save_to_preset` then `from_preset` restores config and outputs."""
    name = type(model).__name__
    preset = os.path.join(str(tmp_path), f"{name}_preset")
    model.save_to_preset(preset)
    restored = type(model).from_preset(preset)
    assert type(restored) is type(model), (
        f"{name}: from_preset gives {type(restored).__name__}"
    )
    got, want = (_without_preprocessor_name(m.get_config())
                 for m in (restored, model))
    assert got == want, (
        f"{name}: config changed through save_to_preset/from_preset:\n"
        f"{got}\n!=\n{want}"
    )
    assert_same_values(restored(input_data), outputs,
                       what=f"{name} after save_to_preset/from_preset")
    return restored


def _without_preprocessor_name(config):
    # A preset keeps the preprocessor's settings, not its layer name: the
    # loader rebuilds it under a fresh one (presets/loader.py).
    config = dict(config)
    if isinstance(config.get("preprocessor"), dict):
        preprocessor = dict(config["preprocessor"])
        preprocessor["config"] = {
            k: v for k, v in preprocessor["config"].items() if k != "name"
        }
        config["preprocessor"] = preprocessor
    return config


def check_backbone_precision(cls, init_kwargs, input_data,
                             policy=PRECISION_POLICY):
    """A backbone built with `dtype=policy` has that policy (kept through
    its config), outputs in the compute dtype and variables in the
    variable dtype."""
    policy = keras.dtype_policies.get(policy)
    name = f"{cls.__name__} under {policy.name}"
    backbone = cls(**{**init_kwargs, "dtype": policy.name})
    assert backbone.dtype_policy.name == policy.name, (
        f"{name}: the model's dtype_policy is {backbone.dtype_policy.name}"
    )
    assert_float_dtype(backbone(input_data), policy.compute_dtype, name)
    _check_variables(backbone, policy.variable_dtype, name)
    _check_sublayer_policies(backbone, policy, name)
    revived = cls.from_config(backbone.get_config())
    assert revived.dtype_policy.name == policy.name, (
        f"{name}: from_config(get_config()) has policy "
        f"{revived.dtype_policy.name}"
    )
    _check_sublayer_policies(revived, policy, f"{name} after from_config")


# -- tasks -------------------------------------------------------------------
class _BatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def run_task_test(cls, init_kwargs, input_data, expected_output_shape, *,
                  tmp_path, fit_data, predict_data=None,
                  predict_method="predict", check_prediction=None,
                  compile_kwargs=None, run_saving_check=True,
                  run_precision_check=True):
    """Runs every task check.

    Args:
        cls: the task class.
        init_kwargs: constructor arguments, with a `backbone` instance (and
            a `preprocessor` for raw-data checks).
        input_data: token inputs (a dict of arrays) for direct calls.
        expected_output_shape: output shape(s) on `input_data`.
        tmp_path: a directory for saved files.
        fit_data: `(x, y)` of the task's natural data (raw strings, pairs,
            words and tags, questions and answers, RACE dicts; token dicts
            for tasks without one), fit for exactly one step.
        predict_data: natural data for `predict_method`, after fitting;
            None skips the prediction.
        predict_method: name of the method that predicts natural data.
        check_prediction: optional function of the prediction that asserts
            what it should look like.
        compile_kwargs: arguments for `compile()` before fitting; the
            task's defaults (`"auto"`) fill in the rest.
        run_saving_check: the `.keras` check (`check_task_saving`).
        run_precision_check: the mixed precision check.
    """
    name = cls.__name__
    task = cls(**init_kwargs)
    outputs = task(input_data)
    assert _structure(shapes_of(outputs)) == _structure(
        expected_output_shape), (
        f"{name}: output shapes {shapes_of(outputs)} != "
        f"{expected_output_shape}"
    )
    assert_float_dtype(outputs, "float32", name)

    check_model_config(cls, task, init_kwargs, input_data, outputs)
    if run_saving_check:
        check_task_saving(task, input_data, outputs, tmp_path)
    restored = check_preset_round_trip(task, input_data, outputs, tmp_path)
    _check_same_preprocessor(restored, task, "save_to_preset/from_preset",
                             keep_name=False)

    check_task_fit_and_predict(task, fit_data, predict_data,
                               predict_method, check_prediction,
                               compile_kwargs)
    if run_precision_check:
        check_task_precision(cls, init_kwargs, input_data)


def check_task_saving(task, input_data, outputs, tmp_path):
    """A `.keras` file restores the task, its outputs and its preprocessor
    (settings and tokenizer vocabulary)."""
    restored = check_model_saving(task, input_data, outputs, tmp_path)
    _check_same_preprocessor(restored, task, ".keras round trip")


def _check_same_preprocessor(restored, task, how, keep_name=True):
    name = type(task).__name__
    if task.preprocessor is None:
        assert restored.preprocessor is None, (
            f"{name}: gained a preprocessor through {how}"
        )
        return
    assert type(restored.preprocessor) is type(task.preprocessor), (
        f"{name}: preprocessor is {type(restored.preprocessor).__name__} "
        f"after {how}"
    )
    got, want = restored.preprocessor.get_config(), (
        task.preprocessor.get_config())
    if not keep_name:
        got, want = ({k: v for k, v in c.items() if k != "name"}
                     for c in (got, want))
    assert got == want, (
        f"{name}: preprocessor config changed through {how}:\n{got}\n!="
        f"\n{want}"
    )
    assert restored.preprocessor.tokenizer.proto == (
        task.preprocessor.tokenizer.proto), (
        f"{name}: tokenizer vocabulary changed through {how}"
    )


def check_task_fit_and_predict(task, fit_data, predict_data=None,
                               predict_method="predict",
                               check_prediction=None, compile_kwargs=None):
    """`compile()` with the task's defaults (but `compile_kwargs`), one
    `fit` step on natural data (all examples in one batch), then a
    prediction on natural data."""
    name = type(task).__name__
    x, y = fit_data
    task.compile(**(compile_kwargs or {}))
    counter = _BatchCounter()
    history = task.fit(x, y, batch_size=_num_examples(x), epochs=1,
                       verbose=0, callbacks=[counter])
    assert counter.batches == 1, (
        f"{name}: fit ran {counter.batches} steps, expected one"
    )
    loss = history.history["loss"][-1]
    assert np.isfinite(loss), f"{name}: fit loss is {loss}"
    if predict_data is not None:
        prediction = getattr(task, predict_method)(predict_data)
        if check_prediction is not None:
            check_prediction(prediction)


def _num_examples(x):
    if isinstance(x, dict):
        for key in ("token_ids", "question", "article"):
            if key in x:
                return len(x[key])
    if isinstance(x, tuple):
        return len(x[0])
    return len(x)


def check_task_precision(cls, init_kwargs, input_data,
                         policy=PRECISION_POLICY):
    """A task on a backbone built with `dtype=policy` outputs the compute
    dtype, keeps variables in the variable dtype, and each of its weighted
    layers (backbone and heads) has the policy."""
    policy = keras.dtype_policies.get(policy)
    name = f"{cls.__name__} on a {policy.name} backbone"
    backbone = init_kwargs["backbone"]
    mixed = type(backbone).from_config(
        {**backbone.get_config(), "dtype": policy.name}
    )
    task = cls(**{**init_kwargs, "backbone": mixed})
    assert_float_dtype(task(input_data), policy.compute_dtype, name)
    _check_variables(task, policy.variable_dtype, name)
    _check_sublayer_policies(task, policy, name, weighted_only=True)


# -- preprocessors -----------------------------------------------------------
def _first(data):
    """The first example of a batch (lists, arrays, tuples, dicts)."""
    if isinstance(data, dict):
        return {k: _first(v) for k, v in data.items()}
    if isinstance(data, tuple):
        return tuple(_first(v) for v in data)
    return data[:1]


def _call_preprocessor(preprocessor, x, y=None):
    if y is None:
        return preprocessor(x)
    return preprocessor(x, y)


def _features(outputs):
    """The model inputs of a preprocessor output (`x` of `(x, y, ...)`)."""
    return outputs[0] if isinstance(outputs, tuple) else outputs


def _restore_assets(revived, original, tmp_path):
    """Copies the tokenizer's vocabulary the way saving does (assets)."""
    source = getattr(original, "tokenizer", original)
    target = getattr(revived, "tokenizer", revived)
    folder = os.path.join(str(tmp_path), "assets")
    os.makedirs(folder, exist_ok=True)
    source.save_assets(folder)
    target.load_assets(folder)


def run_preprocessor_test(cls, init_kwargs, input_data, expected_output, *,
                          tmp_path, labels=None, make_dataset=None):
    """Runs every preprocessor (and tokenizer) check.

    Args:
        cls: the preprocessor class.
        init_kwargs: constructor arguments.
        input_data: a batch (two or more examples) of the preprocessor's
            input: a list of strings, a `(text_a, text_b)` tuple, a dict.
            With padded outputs the first example must be shorter than
            the batch's longest, so the batch-of-one check sees padding.
        expected_output: `{key: (shape, dtype)}` for dict outputs, or
            `(shape, dtype)` for a single output; `None` in a shape is a
            length that depends on the data (ragged or padded per batch).
        tmp_path: a directory for the tokenizer's assets.
        labels: optional labels for `input_data`, passed as the second
            argument (and through `tf.data` with the inputs).
        make_dataset: for preprocessors that run in Python, a function
            `(preprocessor, input_data, labels)` returning the `tf.data`
            dataset the preprocessor builds; its one element must equal the
            direct call. By default the preprocessor is mapped over a
            batched `tf.data.Dataset`.
    """
    name = cls.__name__
    preprocessor = cls(**init_kwargs)
    outputs = _call_preprocessor(preprocessor, input_data)
    check_output_spec(outputs, expected_output, name)
    if labels is not None:
        labelled = _call_preprocessor(preprocessor, input_data, labels)
        assert isinstance(labelled, tuple) and len(labelled) >= 2, (
            f"{name}: with labels the output is not `(x, y, ...)`"
        )
        assert_same_values(labelled[0], outputs,
                           what=f"{name}: x with labels vs without")

    # Config round trip: every argument kept, the same outputs.
    config = preprocessor.get_config()
    _json(config, name)
    assert_config_keeps_arguments(config, {
        k: v for k, v in init_kwargs.items() if k != "proto"
    }, what=f"{name}.get_config()")
    revived = cls.from_config(config)
    assert revived.get_config() == config, (
        f"{name}: from_config(get_config()) has another config:\n"
        f"{revived.get_config()}\n!=\n{config}"
    )
    _restore_assets(revived, preprocessor, tmp_path)
    assert_same_values(_call_preprocessor(revived, input_data), outputs,
                       what=f"{name} after from_config(get_config())")
    if isinstance(preprocessor, keras.layers.Layer):
        clone = keras.saving.deserialize_keras_object(json.loads(
            _json(keras.saving.serialize_keras_object(preprocessor), name)))
        assert type(clone) is cls and clone.get_config() == config, (
            f"{name}: serialize/deserialize_keras_object gives "
            f"{type(clone).__name__}"
        )

    check_batch_of_one(preprocessor, input_data, outputs, name)

    # tf.data.
    try:
        if make_dataset is None:
            data = (input_data,) if labels is None else (input_data, labels)
            dataset = tf.data.Dataset.from_tensor_slices(data).batch(
                _num_examples(input_data)).map(preprocessor)
        else:
            dataset = make_dataset(preprocessor, input_data, labels)
        elements = list(dataset)
    except Exception as e:  # noqa: BLE001 - any failure fails the check
        raise AssertionError(
            f"{name} does not run in tf.data: {type(e).__name__}: {e}"
        ) from e
    if make_dataset is None:
        expected = outputs if labels is None else labelled
    else:
        expected = _call_preprocessor(preprocessor, input_data, labels)
    assert len(elements) == 1, (
        f"{name}: tf.data gave {len(elements)} batches, expected one"
    )
    assert_same_values(elements[0], expected,
                       what=f"{name} in tf.data vs a direct call")


def check_output_spec(outputs, expected_output, name):
    """Output keys, dtypes and shapes (None: any length)."""
    features = _features(outputs)
    if isinstance(expected_output, dict):
        assert isinstance(features, dict) and set(features) == set(
            expected_output), (
            f"{name}: output keys "
            f"{sorted(features) if isinstance(features, dict) else features!r}"
            f" != {sorted(expected_output)}"
        )
        for key, spec in expected_output.items():
            _check_tensor_spec(features[key], spec, f"{name}[{key!r}]")
    else:
        _check_tensor_spec(features, expected_output, name)


def _check_tensor_spec(value, spec, what):
    shape, dtype = spec
    if tf is not None and isinstance(value, tf.RaggedTensor):
        got_dtype = value.dtype.name
        got_shape = tuple(value.bounding_shape().numpy())
    elif isinstance(value, list):
        # Ragged outputs of an eager call under JAX or torch are nested
        # Python lists: their ints carry no dtype, only check they fit.
        values = [v for row in value for v in np.ravel(row)]
        assert all(isinstance(v, (int, np.integer)) for v in values), (
            f"{what}: ragged output holds non-integers"
        )
        info = np.iinfo(dtype)
        assert all(info.min <= v <= info.max for v in values), (
            f"{what}: values do not fit {dtype}"
        )
        got_dtype = dtype
        got_shape = (len(value), max((len(row) for row in value), default=0))
    else:
        got_dtype = _dtype(value)
        got_shape = tuple(np.shape(to_numpy(value)))
    assert got_dtype == dtype, f"{what}: dtype {got_dtype} != {dtype}"
    assert len(got_shape) == len(shape) and all(
        e is None or e == g for g, e in zip(got_shape, shape)
    ), f"{what}: shape {got_shape} != {shape}"


def check_batch_of_one(preprocessor, input_data, outputs, name):
    """The first example alone gives the first row of the batch (cut to
    its own padded length; the rest of the batch row is padding)."""
    one = to_numpy(_features(_call_preprocessor(preprocessor,
                                                _first(input_data))))
    batch = to_numpy(_features(outputs))
    if not isinstance(one, dict):
        one, batch = {"output": one}, {"output": batch}
    for key in batch:
        got, full = one[key], batch[key]
        if isinstance(full, list):
            assert len(got) == 1, f"{name}[{key!r}]: {len(got)} rows"
            assert_same_values(got[0], full[0],
                               what=f"{name}[{key!r}] batch of one")
            continue
        got, full = np.asarray(got), np.asarray(full)
        assert got.shape[0] >= 1 and got.shape[1:-1] == full.shape[1:-1], (
            f"{name}[{key!r}]: batch of one has shape {got.shape}, the "
            f"batch {full.shape}"
        )
        width = got.shape[-1]
        assert width <= full.shape[-1], (
            f"{name}[{key!r}]: a batch of one is longer ({width}) than the "
            f"batch ({full.shape[-1]})"
        )
        np.testing.assert_array_equal(
            got[0], full[0][..., :width],
            err_msg=f"{name}[{key!r}]: batch of one vs first row",
        )
    if "padding_mask" in batch:
        width = np.shape(one["padding_mask"])[-1]
        mask = np.asarray(batch["padding_mask"])
        assert width < mask.shape[-1], (
            f"{name}: the first example alone is as long as the batch "
            f"({width}), so a batch of one cannot show the padding is "
            "right; put a shorter example first"
        )
        tail = mask[0][..., width:]
        assert not tail.any(), (
            f"{name}: the first row has real tokens past the batch-of-one "
            "length"
        )
