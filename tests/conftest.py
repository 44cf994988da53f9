"""Hypothesis profiles: ``dev`` (default), ``ci`` (when CI is set), ``nightly``, ``mutation``,
``fuzz``.

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

# Under mutmut (which sets MUTANT_UNDER_TEST) each test runs once per mutant, from one
# forked process: few examples, and no complaint that a test method ran on two instances.
settings.register_profile(
    "mutation",
    parent=settings.get_profile("ci"),
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)

# The long fuzzing run (tests/test_fuzz.py; docs/guarantees.md), outside CI.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("BATCHFSM_FUZZ_EXAMPLES", "200000")),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

_default = "ci" if os.environ.get("CI") else "dev"
if "MUTANT_UNDER_TEST" in os.environ:
    _default = "mutation"
settings.load_profile(os.environ.get("BATCHFSM_HYPOTHESIS_PROFILE", _default))
