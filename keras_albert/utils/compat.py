"""Every private API of Keras, KerasHub and TensorFlow that keras-albert uses.

Private names (`keras_hub.src.*` modules, underscore attributes,
`tensorflow.python.*`) can change in any release. Reaching them only
through this module keeps the list in one place, and a version that lacks
one fails here with a `PrivateAPIError` naming the package, the version
found and the version checked, instead of an `AttributeError` or
`ImportError` from deep inside a call.

Checked against (`CHECKED_VERSIONS`): keras 3.15.1, keras-hub 0.32.0,
tensorflow 2.21.0, tensorflow-text 2.21.1.

Accessors, by package:

- keras-hub: `preprocessing_layer_class` (`PreprocessingLayer` under
  `keras_hub.src`), `preprocessing_function` and `no_convert_scope`
  (`keras_hub.src.utils.tensor_utils`), `tf_workflow_kwargs` (the
  `_allow_python_workflow` layer argument), `sentence_piece_tokenizer_class`
  (the `_tokenize_tf`, ... hooks of `SentencePieceTokenizer`),
  `sentence_piece_op` (its `_sentence_piece`),
  `transformer_encoder_sublayers` (`TransformerEncoder._self_attention_layer`
  and siblings).
- keras: `export_archive_trackable` (`ExportArchive._tf_trackable`),
  `replace_export_endpoint` (its `_endpoint_names` and endpoint
  attributes), `jax_state_kept_on_error` (`Variable._value`, which the
  JAX trainer empties during its loops),
  `replace_maybe_symbolic_build` and `symbolic_build` (the TensorFlow
  trainer's `_maybe_symbolic_build` and `_symbolic_build`),
  `optimizer_variable_index` (`Optimizer._get_variable_index`),
  `save_weights_h5` (`saving_lib.H5IOStore` and `_save_state`),
  `all_layers` (`Layer._flatten_layers`: every nested layer once).
- tensorflow: `convert_variables_to_constants`
  (`tensorflow.python.framework.convert_to_constants`), `in_xla_context`
  (`tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext`).
- tensorflow-text: `sentencepiece_model_op` (the generated op that creates
  a SentencePiece model resource) and `replace_sentencepiece_model`
  (the `_model_resource` of a `tf_text.SentencepieceTokenizer`).

This module imports nothing from keras-albert (it is at the bottom of the
package layering) and imports each foreign package only when an accessor
is called.
"""

import contextlib
import importlib.metadata
import sys

# The releases every accessor below was checked with.
CHECKED_VERSIONS = {
    "keras": "3.15.1",
    "keras-hub": "0.32.0",
    "tensorflow": "2.21.0",
    "tensorflow-text": "2.21.1",
}
_MODULES = {"keras": "keras", "keras-hub": "keras_hub",
            "tensorflow": "tensorflow", "tensorflow-text": "tensorflow_text"}


class PrivateAPIError(RuntimeError):
    """A private API keras-albert relies on is missing from the installed
    version of a package."""


def installed_version(package):
    """The installed version of `package` (`"keras"`, `"keras-hub"` or
    `"tensorflow"`), or `"unknown"`."""
    module = sys.modules.get(_MODULES.get(package, package))
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def missing_private_api(package, name, cause=None):
    """The `PrivateAPIError` for `name`, a private part of `package` that
    the installed version lacks."""
    checked = CHECKED_VERSIONS[package]
    series = ".".join(checked.split(".")[:2])
    message = (
        f"keras-albert uses `{name}`, a private part of {package}, and "
        f"{package} {installed_version(package)} (installed) does not have "
        f"it. keras-albert was checked with {package} {checked}: install "
        f"`{package}=={series}.*`, or a keras-albert release that supports "
        "this version."
    )
    if cause is not None:
        message += f" ({type(cause).__name__}: {cause})"
    return PrivateAPIError(message)


def _require(owner, attribute, package, name):
    """`owner.attribute`, or the `PrivateAPIError` for `name`."""
    try:
        return getattr(owner, attribute)
    except AttributeError as e:
        raise missing_private_api(package, name, e) from None


# -- keras-hub ---------------------------------------------------------------
def _keras_hub_tensor_utils():
    try:
        from keras_hub.src.utils import tensor_utils
    except ImportError as e:
        raise missing_private_api(
            "keras-hub", "keras_hub.src.utils.tensor_utils", e
        ) from None
    return tensor_utils


def preprocessing_layer_class():
    """KerasHub's `PreprocessingLayer` base class (not exported publicly):
    a Keras layer that takes raw strings and returns TF tensors."""
    try:
        from keras_hub.src.layers.preprocessing import preprocessing_layer
    except ImportError as e:
        raise missing_private_api(
            "keras-hub",
            "keras_hub.src.layers.preprocessing.preprocessing_layer", e,
        ) from None
    return _require(
        preprocessing_layer, "PreprocessingLayer", "keras-hub",
        "keras_hub.src.layers.preprocessing.preprocessing_layer."
        "PreprocessingLayer",
    )


def preprocessing_function():
    """KerasHub's `preprocessing_function` decorator: runs a method on TF
    tensors and converts its outputs to the backend's types."""
    return _require(
        _keras_hub_tensor_utils(), "preprocessing_function", "keras-hub",
        "keras_hub.src.utils.tensor_utils.preprocessing_function",
    )


def no_convert_scope():
    """KerasHub's `no_convert_scope` context manager factory: inside it,
    preprocessing functions return TF tensors on every backend."""
    return _require(
        _keras_hub_tensor_utils(), "no_convert_scope", "keras-hub",
        "keras_hub.src.utils.tensor_utils.no_convert_scope",
    )


def tf_workflow_kwargs():
    """Layer arguments that make a KerasHub preprocessing layer run its
    TensorFlow path on eager calls too (keras-hub >= 0.27 otherwise runs
    the Python `sentencepiece` package eagerly)."""
    layer_class = preprocessing_layer_class()
    # The flag is read by `_use_tf_workflow`; without it the argument
    # would be an unknown layer keyword.
    _require(layer_class, "_use_tf_workflow", "keras-hub",
             "PreprocessingLayer._use_tf_workflow "
             "(the `_allow_python_workflow` argument)")
    return {"_allow_python_workflow": False}


# The hooks of KerasHub's `SentencePieceTokenizer` that `AlbertTokenizer`
# overrides or calls.
SENTENCE_PIECE_HOOKS = (
    "_add_special_token",
    "_update_special_token_ids",
    "_check_vocabulary",
    "_set_proto_tf",
    "_tokenize_tf",
    "_detokenize_tf",
    "_tokenize_spm",
)


def sentence_piece_tokenizer_class():
    """`keras_hub.tokenizers.SentencePieceTokenizer` (public), checked to
    have the private hooks in `SENTENCE_PIECE_HOOKS` that a subclass
    overriding its tokenization relies on."""
    from keras_hub.tokenizers import SentencePieceTokenizer

    for hook in SENTENCE_PIECE_HOOKS:
        _require(SentencePieceTokenizer, hook, "keras-hub",
                 f"keras_hub.tokenizers.SentencePieceTokenizer.{hook}")
    return SentencePieceTokenizer


def sentence_piece_op(tokenizer):
    """The tensorflow-text `SentencepieceTokenizer` (a TF resource) inside a
    KerasHub `SentencePieceTokenizer`, or None before its TF path set it."""
    sentence_piece_tokenizer_class()  # `_set_proto_tf` is what sets it.
    return getattr(tokenizer, "_sentence_piece", None)


# Our names for the sublayers of a `keras_hub.layers.TransformerEncoder`,
# and KerasHub's private attributes holding them.
TRANSFORMER_ENCODER_SUBLAYERS = {
    "attention": "_self_attention_layer",
    "attention_layer_norm": "_self_attention_layer_norm",
    "intermediate_dense": "_feedforward_intermediate_dense",
    "output_dense": "_feedforward_output_dense",
    "feedforward_layer_norm": "_feedforward_layer_norm",
}


def transformer_encoder_sublayers(layer):
    """`{name: sublayer}` of a built `keras_hub.layers.TransformerEncoder`,
    named as in `TRANSFORMER_ENCODER_SUBLAYERS`."""
    return {
        name: _require(layer, attribute, "keras-hub",
                       f"keras_hub.layers.TransformerEncoder.{attribute}")
        for name, attribute in TRANSFORMER_ENCODER_SUBLAYERS.items()
    }


# -- keras -------------------------------------------------------------------
def export_archive_trackable(archive):
    """The TensorFlow `AutoTrackable` a `keras.export.ExportArchive` writes
    (TensorFlow backend), whose variable lists become the SavedModel's."""
    return _require(archive, "_tf_trackable", "keras",
                    "keras.export.ExportArchive._tf_trackable")


def replace_export_endpoint(archive, name, function):
    """Makes `function` (a `tf.function` with an input signature) the
    endpoint `name` that `archive.add_endpoint` registered before, e.g. to
    put TensorFlow checks around a jax2tf-converted model: Keras writes
    each endpoint from the attribute of that name on
    `ExportArchive._tf_trackable`."""
    names = _require(archive, "_endpoint_names", "keras",
                     "keras.export.ExportArchive._endpoint_names")
    if name not in names:
        raise ValueError(f"The archive has no endpoint {name!r} to replace.")
    setattr(export_archive_trackable(archive), name, function)


def _model_state(model):
    """Every variable Keras' JAX trainer may take out of `model`."""
    seen, variables = set(), []
    optimizer = getattr(model, "optimizer", None)
    for group in (model.variables, getattr(model, "metrics_variables", []),
                  getattr(optimizer, "variables", None) or []):
        for variable in group:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


@contextlib.contextmanager
def jax_state_kept_on_error(model):
    """Keeps `model` usable when its JAX `fit`/`evaluate`/`predict` fails.

    Keras' JAX trainer takes the variables' values out of the model while
    its loop runs (`Variable._value = None`, to save memory) and puts them
    back when the loop ends, or in `fit` after a step succeeded. An error
    in the first step (a bad batch, a trace-time `ValueError`, Ctrl-C)
    leaves every weight empty, and each later call fails with `TypeError:
    'NoneType' object is not callable`. On an error this puts back the
    values from before the call into variables left empty (zeros for
    variables created during the call, e.g. a new optimizer's slots,
    which start at zero), then re-raises.
    """
    variables = _model_state(model)
    values = {id(v): getattr(v, "_value", None) for v in variables}
    try:
        yield
    except BaseException:
        import keras

        for variable in _model_state(model):
            if "_value" in vars(variable) and variable._value is None:
                value = values.get(id(variable))
                variable._value = (
                    value if value is not None
                    else keras.ops.zeros(variable.shape, variable.dtype))
        raise


def replace_maybe_symbolic_build(model, maybe_symbolic_build):
    """Installs `maybe_symbolic_build(iterator=None, data_batch=None)` as
    the model's `_maybe_symbolic_build`: the hook the TensorFlow trainer
    calls before the first `fit`/`evaluate`/`predict` step to build the
    optimizer and metrics under its distribution strategy.

    Args:
        model: a compiled `keras.Model` (TensorFlow backend).
        maybe_symbolic_build: the replacement; typically ends with
            `symbolic_build(model, data_batch)` inside the strategy scope.
    """
    _require(model, "_maybe_symbolic_build", "keras",
             "keras.Model._maybe_symbolic_build (TensorFlow trainer)")
    model._maybe_symbolic_build = maybe_symbolic_build


def symbolic_build(model, data_batch):
    """Builds `model`'s optimizer, loss and metric state from one batch
    `(x, y, sample_weight)` without running a step (Keras'
    `Trainer._symbolic_build`)."""
    build = _require(model, "_symbolic_build", "keras",
                     "keras.Model._symbolic_build")
    return build(data_batch=data_batch)


def optimizer_variable_index(optimizer, variable):
    """The index of `variable` in `optimizer`'s variable list, as Keras'
    `update_step` implementations use it for per-variable state."""
    index = _require(optimizer, "_get_variable_index", "keras",
                     "keras.optimizers.Optimizer._get_variable_index")
    return index(variable)


def all_layers(model):
    """Every layer nested in `model` (not `model` itself), each once even
    when shared (`Layer._flatten_layers`, what `Model.quantize` walks)."""
    flatten = _require(model, "_flatten_layers", "keras",
                       "keras.layers.Layer._flatten_layers")
    return list(flatten(include_self=False))


def save_weights_h5(model, buffer):
    """Writes what `model.save_weights("x.weights.h5")` writes into the
    `io.BytesIO` `buffer` (Keras' `saving_lib.H5IOStore` and
    `_save_state`; `save_weights` itself only takes a path)."""
    try:
        from keras.src.saving import saving_lib
    except ImportError as e:
        raise missing_private_api(
            "keras", "keras.src.saving.saving_lib", e
        ) from None
    store_cls = _require(saving_lib, "H5IOStore", "keras",
                         "keras.src.saving.saving_lib.H5IOStore")
    save_state = _require(saving_lib, "_save_state", "keras",
                          "keras.src.saving.saving_lib._save_state")
    store = store_cls(buffer, mode="w")
    try:
        save_state(model, weights_store=store, assets_store=None,
                   inner_path="", visited_saveables=set())
    finally:
        store.close()


# -- tensorflow --------------------------------------------------------------
def convert_variables_to_constants():
    """TensorFlow's `convert_variables_to_constants_v2(concrete_function)`:
    the same function with every variable read replaced by a constant
    (only reachable under `tensorflow.python`)."""
    try:
        from tensorflow.python.framework import convert_to_constants
    except ImportError as e:
        raise missing_private_api(
            "tensorflow", "tensorflow.python.framework.convert_to_constants",
            e,
        ) from None
    return _require(
        convert_to_constants, "convert_variables_to_constants_v2",
        "tensorflow", "tensorflow.python.framework.convert_to_constants."
        "convert_variables_to_constants_v2",
    )


def in_xla_context():
    """True while TensorFlow traces a function that XLA will compile
    (`tf.function(jit_compile=True)`, Keras' `compile(jit_compile=True)`),
    where assertions compile to nothing and string ops do not compile."""
    try:
        import tensorflow as tf
        from tensorflow.python.ops import control_flow_util
    except ImportError as e:
        raise missing_private_api(
            "tensorflow", "tensorflow.python.ops.control_flow_util", e,
        ) from None
    in_xla = _require(
        control_flow_util, "GraphOrParentsInXlaContext", "tensorflow",
        "tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext",
    )
    return bool(in_xla(tf.compat.v1.get_default_graph()))


# -- tensorflow-text ---------------------------------------------------------
def sentencepiece_model_op():
    """tensorflow-text's generated `sentencepiece_op(model, container,
    shared_name, ...)`: creates the resource holding a SentencePiece model
    (only reachable through its private `sentencepiece_tokenizer` module)."""
    try:
        from tensorflow_text.python.ops import sentencepiece_tokenizer
    except ImportError as e:
        raise missing_private_api(
            "tensorflow-text",
            "tensorflow_text.python.ops.sentencepiece_tokenizer", e,
        ) from None
    generated = _require(
        sentencepiece_tokenizer, "gen_sentencepiece_tokenizer",
        "tensorflow-text", "tensorflow_text.python.ops."
        "sentencepiece_tokenizer.gen_sentencepiece_tokenizer",
    )
    return _require(
        generated, "sentencepiece_op", "tensorflow-text",
        "gen_sentencepiece_tokenizer.sentencepiece_op",
    )


def replace_sentencepiece_model(tokenizer, resource):
    """Makes the `tf_text.SentencepieceTokenizer` `tokenizer` run on
    `resource` (a `TrackableResource` whose handle is a SentencePiece model
    resource) instead of the resource it created (its `_model_resource`,
    whose `resource_handle` every tokenizer op reads)."""
    _require(tokenizer, "_model_resource", "tensorflow-text",
             "tensorflow_text.SentencepieceTokenizer._model_resource")
    tokenizer._model_resource = resource
