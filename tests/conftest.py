"""Hypothesis profiles: ``dev`` (default), ``ci`` (when CI is set) and ``nightly``.

Select one explicitly with ``BATCHFSM_HYPOTHESIS_PROFILE=nightly pytest``. Hypothesis loads
its own ``ci`` profile when ``CI`` is set; ours replaces it so CI keeps a fixed budget.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("BATCHFSM_HYPOTHESIS_PROFILE", _default))
