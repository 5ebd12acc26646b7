"""What the CLI, converters and exporters read from a model class."""


class ModelContract:
    """Class-level facts and serving hooks of the backbone and every task.

    The CLI, the checkpoint converters and the exporters ask the model's
    class instead of keeping their own lists of models, so a new task is
    one new file that sets these:

    - `task_name`: the model's name in the CLI (`--task`) and in export
      settings (`"backbone"`, `"classifier"`, ...).
    - `hf_architecture`: the `transformers` class with the same weight
      layout (`"AlbertModel"`, `"AlbertForSequenceClassification"`, ...),
      or None; `keras_hub_names`: registered names of KerasHub classes
      whose presets load as this model.
    - `exportable`: whether the exporters serve it; `text_signatures`:
      whether its SavedModel tokenizes raw strings in the graph (models
      whose inputs need word or window alignment on the client export
      token ids only); `export_options`: the options its serving form
      takes, with their defaults.
    - `serving_outputs(outputs, inputs, **options)`: the named serving
      outputs computed from the model's outputs on the token inputs;
      `export_settings(**options)`: the model's entries in the settings
      file written beside an export; `serving_input_shape()`: the shape of
      each token input.

    Example:
    ```python
    cls = keras_albert.AlbertClassifier
    cls.task_name, cls.hf_architecture
    # ("classifier", "AlbertForSequenceClassification")
    ```
    """

    task_name = None
    hf_architecture = None
    keras_hub_names = ()
    exportable = True
    text_signatures = False
    export_options = {}

    def serving_input_shape(self):
        """Shape of each token input of the serving graph: `(batch,
        length)`, both dynamic."""
        return (None, None)

    def serving_outputs(self, outputs, inputs, **options):
        """Named serving outputs from the model's `outputs` on the token
        `inputs` (a dict of symbolic tensors)."""
        raise ValueError(
            f"{type(self).__name__} has no serving form: export serves "
            "fine-tuned tasks and backbones."
        )

    def export_settings(self, **options):
        """The model's entries in an export's settings file."""
        return {}

    @classmethod
    def check_export_options(cls, options):
        """`options` restricted to this model's `export_options` and
        completed with their defaults."""
        return {
            name: options.get(name, default)
            for name, default in cls.export_options.items()
        }
