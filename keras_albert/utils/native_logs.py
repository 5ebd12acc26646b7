"""Keeps TensorFlow's native log noise out of keras-albert's output.

TensorFlow's C++ code writes to the process's stderr directly, so Python's
logging and warnings filters cannot reach it, and some of it ignores
`TF_CPP_MIN_LOG_LEVEL`: lines printed before TensorFlow's logging starts
(absl's "All log messages before absl::InitializeLog() is called are
written to STDERR", the oneDNN and "Could not find cuda drivers" INFO
lines, twice, since two shared libraries log them), and on machines with
CUDA libraries but no GPU, "failed call to cuInit: ... UNKNOWN ERROR
(303)". The TFLite converter logs "Ignored output_format." and "Ignored
drop_control_dependency." for options it sets itself.

`filtered_native_stderr(keep)` captures file descriptor 2 for a block and
writes back the lines `keep` accepts, so everything else (Python warnings
included) still reaches the user. `import_tensorflow_quietly` uses it for
the `keras-albert` command: it imports TensorFlow and lists its devices
(where cuInit runs), dropping lines below `TF_CPP_MIN_LOG_LEVEL` (1 unless
set: INFO hidden, warnings and errors kept) and, on a machine without an
NVIDIA device, the cuInit failure. Only the command does that; as a
library, keras_albert drops no more than the converter's known lines
around `export_tflite`.

Example:
```python
from keras_albert.utils.native_logs import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports keras
import keras
```
"""

import contextlib
import glob
import os
import re
import sys
import tempfile

# glog/absl line prefix: severity letter, then MMDD.
_SEVERITY = re.compile(r"^([IWEF])\d{4} ")
_SEVERITY_LEVEL = {"I": 0, "W": 1, "E": 2, "F": 3}
_ABSL_PREAMBLE = ("WARNING: All log messages before absl::InitializeLog() "
                  "is called are written to STDERR")
_CUINIT_FAILURE = "failed call to cuInit"


def has_nvidia_device():
    """Whether the machine exposes an NVIDIA GPU device node."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def keep_startup_line(line, min_level, gpu_present):
    """Whether a line TensorFlow printed while starting is worth showing.

    Args:
        line: str, without its newline.
        min_level: int. `TF_CPP_MIN_LOG_LEVEL`: lines of a lower severity
            (0 INFO, 1 WARNING, 2 ERROR) are dropped.
        gpu_present: bool. Whether a GPU device exists; without one, a
            failed cuInit only says there is no GPU and is dropped.
    """
    if min_level >= 1 and line == _ABSL_PREAMBLE:
        return False
    match = _SEVERITY.match(line)
    if match and _SEVERITY_LEVEL[match.group(1)] < min_level:
        return False
    return not (min_level >= 1 and not gpu_present
                and _CUINIT_FAILURE in line)


@contextlib.contextmanager
def filtered_native_stderr(keep):
    """Captures everything written to file descriptor 2 inside the block
    (native libraries and Python alike) and writes back, when the block
    ends, the lines for which `keep(line)` is true.

    Where stderr is no real file descriptor (e.g. some notebook kernels)
    nothing is captured.

    Args:
        keep: callable taking one line (without its newline), returning
            whether to show it.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True)
                    if keep(line.rstrip("\n"))]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _min_log_level():
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def import_tensorflow_quietly():
    """Imports TensorFlow (if installed and not imported yet) and lists its
    devices, showing only the start-up lines that matter (see the module
    docstring). Sets `TF_CPP_MIN_LOG_LEVEL=1` unless it is set."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    min_level = _min_log_level()
    gpu_present = has_nvidia_device()
    with filtered_native_stderr(
            lambda line: keep_startup_line(line, min_level, gpu_present)):
        try:
            import tensorflow as tf
        except ImportError:
            return  # the command reports what it misses
        # Device discovery is where cuInit runs (and fails without a GPU).
        tf.config.list_physical_devices()
