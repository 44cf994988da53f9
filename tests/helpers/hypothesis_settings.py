"""Settings for Hypothesis tests that build the codec's converter (or validate's shortcuts)
anew in a function-scoped fixture.

batchfsm builds those when it is imported; tests that build them again see a change to how
they are built, which mutation testing (it forks, never re-imports) needs. What they build
holds no state, so one per test function serves all of its examples: the health check that
warns of fixtures shared by examples is suppressed on purpose.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FIXTURE_PER_TEST = settings(
    suppress_health_check=[
        *settings().suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ]
)
