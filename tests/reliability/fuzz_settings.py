"""Hypothesis profiles of the fuzz tests.

`ci` (the default) is small and derandomized: the same examples on every
run, the whole fuzz set well under a minute per backend. `thorough`
explores: `KERAS_ALBERT_FUZZ=thorough pytest tests/reliability -k fuzz`.
No example database is kept, and Hypothesis' own files go to a temporary
directory, not `.hypothesis/` in the source tree.
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

_HOME = tempfile.mkdtemp(prefix="keras_albert_hypothesis_")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
set_hypothesis_home_dir(_HOME)

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
settings.register_profile("ci", max_examples=25, derandomize=True,
                          **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("KERAS_ALBERT_FUZZ", "ci"))


def examples(ci):
    """`max_examples` for one test: `ci` under the CI profile, the
    profile's own count otherwise."""
    if os.environ.get("KERAS_ALBERT_FUZZ", "ci") == "ci":
        return ci
    return settings.default.max_examples
