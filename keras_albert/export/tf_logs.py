"""Keeps TensorFlow's "Assets written to: <path>" log line out of exports.

TensorFlow's SavedModel writer logs `INFO:tensorflow:Assets written to:
<dir>/assets` on every save. Where INFO records are shown (Jupyter and
Colab kernels show them), every export prints it, and the directory is a
temporary one: the staging folder of `export_saved_model` (the finished
export is elsewhere) or the converter's scratch folder in `export_tflite`.
The line says nothing true about the result and puts machine paths in
notebook outputs, so the exports drop it, and only it: a filter on
TensorFlow's Python logger, for the duration of the write.

Example:
```python
with without_asset_logs():
    archive.write_out(staging_dir)
```
"""

import contextlib
import logging

# The name of `tf.get_logger()`.
TENSORFLOW_LOGGER = "tensorflow"
ASSETS_WRITTEN = "Assets written to"


class _DropAssetsWritten(logging.Filter):
    def filter(self, record):
        return not str(record.msg).startswith(ASSETS_WRITTEN)


@contextlib.contextmanager
def without_asset_logs():
    """Drops TensorFlow's "Assets written to" records inside the block."""
    logger = logging.getLogger(TENSORFLOW_LOGGER)
    drop = _DropAssetsWritten()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
