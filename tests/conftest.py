"""Hypothesis profiles: ``dev`` (default), ``ci`` (when CI is set), ``nightly``, ``mutation``,
``fuzz``.

Select one explicitly with ``BATCHFSM_HYPOTHESIS_PROFILE=nightly pytest``. Hypothesis loads
its own ``ci`` profile when ``CI`` is set; ours replaces it so CI keeps a fixed budget.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from batchfsm import Batch, _codec
from batchfsm._fastpath import MISS

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


@pytest.fixture(params=["shortcut", "converter"])
def codec_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a codec test on both of the codec's paths: as batchfsm was imported (the
    generated shortcut first), and on a converter built for this test with every shortcut
    off, so that each promise holds for the converter alone and for the way it is built."""
    if request.param == "converter":
        converter, hooks = _codec._make_converter()
        monkeypatch.setattr(_codec, "_batch_hooks", hooks)
        monkeypatch.setattr(_codec, "_unstructure_batch", converter.get_unstructure_hook(Batch))
        monkeypatch.setattr(_codec, "_fast", dict.fromkeys(_codec._fast, _no_shortcut))
        monkeypatch.setattr(_codec, "_fast_loads", {})
    return str(request.param)


def _no_shortcut(value: object) -> object:
    return MISS
