"""The lifecycle table: one edge per (event, source), every status reachable, profiles."""

from __future__ import annotations

import attrs
import pytest

from batchfsm import EVENTS, IDEMPOTENT, TERMINAL, TRANSITIONS, Provenance, Status
from batchfsm._record import TIMESTAMP_FIELDS
from batchfsm._table import (
    INITIAL,
    carried_stamps,
    reachable,
    required_stamps,
    stamp_order,
    transitions_for,
)


class TestShape:
    def test_one_edge_per_event_and_source(self) -> None:
        """No (event, source) pair has two destinations."""
        pairs = [(t.event, t.source) for t in TRANSITIONS]
        assert len(pairs) == len(set(pairs))

    def test_each_event_has_one_destination_and_stamp(self) -> None:
        """An event always leads to the same status and sets the same stamp."""
        for event in EVENTS:
            edges = [t for t in TRANSITIONS if t.event == event]
            assert len({(t.dest, t.stamp) for t in edges}) == 1, event

    def test_stamps_are_timestamp_fields(self) -> None:
        """Each edge stamps a wire timestamp field, never the expires_at deadline."""
        for edge in TRANSITIONS:
            assert edge.stamp in TIMESTAMP_FIELDS
            assert edge.stamp != "expires_at"

    def test_terminal_statuses(self) -> None:
        """completed, failed, expired and cancelled are final (the four webhooks)."""
        assert {Status.COMPLETED, Status.FAILED, Status.EXPIRED, Status.CANCELLED} == TERMINAL

    def test_edges_are_immutable(self) -> None:
        """The table is frozen data: an edge cannot be changed in place."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            TRANSITIONS[0].dest = Status.COMPLETED  # type: ignore[misc]

    def test_idempotent_pairs_are_not_edges(self) -> None:
        """A no-op (cancel of a cancelling batch) is not also an edge."""
        assert not IDEMPOTENT & {(t.event, t.source) for t in TRANSITIONS}


class TestProfiles:
    @pytest.mark.parametrize("profile", ["strict", "openai", "compat"])
    def test_every_status_reachable(self, profile: str) -> None:
        """Every status can be reached from validating under each profile."""
        assert reachable(transitions_for(profile), INITIAL) == frozenset(Status)

    def test_strict_is_the_documented_subset(self) -> None:
        """strict keeps exactly the documented edges; openai keeps them all."""
        assert all(t.provenance is Provenance.DOCUMENTED for t in transitions_for("strict"))
        assert set(transitions_for("strict")) < set(transitions_for("openai"))
        assert transitions_for("openai") == TRANSITIONS

    def test_tolerated_edges(self) -> None:
        """The tolerated edges are the ones docs/lifecycle.md marks unobserved on OpenAI."""
        tolerated = {
            (t.event, t.source.value) for t in TRANSITIONS if t.provenance is Provenance.TOLERATED
        }
        assert tolerated == {
            ("fail", "in_progress"),
            ("fail", "finalizing"),
            ("expire", "finalizing"),
            ("cancel", "validating"),
            ("cancel", "finalizing"),
        }


class TestCarriedStamps:
    def test_completed(self) -> None:
        """A completed batch carries created, in_progress, finalizing and completed stamps only."""
        carried = carried_stamps(TRANSITIONS)
        assert carried[Status.COMPLETED] == {
            "created_at",
            "in_progress_at",
            "finalizing_at",
            "completed_at",
        }

    def test_validating(self) -> None:
        """A validating batch carries only created_at."""
        assert carried_stamps(TRANSITIONS)[Status.VALIDATING] == {"created_at"}

    def test_profile_matters(self) -> None:
        """Under strict, a failed batch never went through finalizing; under openai it may have."""
        assert "finalizing_at" not in carried_stamps(transitions_for("strict"))[Status.FAILED]
        assert "finalizing_at" in carried_stamps(TRANSITIONS)[Status.FAILED]

    def test_every_status_carries_its_entering_stamp(self) -> None:
        """Each status carries the stamp of every edge that enters it."""
        carried = carried_stamps(TRANSITIONS)
        for edge in TRANSITIONS:
            assert edge.stamp in carried[edge.dest]


S = Status
REQUIRED = {
    # The stamps on every path to each status under openai (docs/research.md §3).
    S.VALIDATING: {"created_at"},
    S.FAILED: {"created_at", "failed_at"},
    S.IN_PROGRESS: {"created_at", "in_progress_at"},
    S.FINALIZING: {"created_at", "in_progress_at", "finalizing_at"},
    S.COMPLETED: {"created_at", "in_progress_at", "finalizing_at", "completed_at"},
    S.EXPIRED: {"created_at", "in_progress_at", "expired_at"},
    S.CANCELLING: {"created_at", "cancelling_at"},
    S.CANCELLED: {"created_at", "cancelling_at", "cancelled_at"},
}


class TestRequiredStamps:
    def test_stamps_on_every_path(self) -> None:
        """Each status requires exactly the stamps every path to it sets."""
        assert required_stamps(TRANSITIONS) == REQUIRED

    def test_strict_cancels_only_batches_in_progress(self) -> None:
        """Under strict, cancel leaves only in_progress: cancelled batches all ran first."""
        expected = dict(REQUIRED)
        for status in (S.CANCELLING, S.CANCELLED):
            expected[status] = REQUIRED[status] | {"in_progress_at"}
        assert required_stamps(transitions_for("strict")) == expected


class TestStampOrder:
    def test_pairs_follow_the_paths(self) -> None:
        """Every stamp comes after those its edge's source may carry, and never after itself."""
        order = stamp_order(TRANSITIONS)
        assert ("created_at", "in_progress_at") in order
        assert ("in_progress_at", "finalizing_at") in order
        assert ("finalizing_at", "completed_at") in order
        assert ("cancelling_at", "cancelled_at") in order
        assert ("finalizing_at", "failed_at") in order  # a tolerated path
        assert all(earlier != later for earlier, later in order)
        assert ("completed_at", "finalizing_at") not in order

    def test_strict_has_fewer_pairs(self) -> None:
        """The tolerated edges add orderings: strict's pairs are a strict subset."""
        assert stamp_order(transitions_for("strict")) < stamp_order(TRANSITIONS)


class TestReachable:
    @pytest.mark.parametrize(
        ("start", "expected"),
        [
            (
                S.IN_PROGRESS,
                {
                    S.IN_PROGRESS,
                    S.FINALIZING,
                    S.COMPLETED,
                    S.FAILED,
                    S.EXPIRED,
                    S.CANCELLING,
                    S.CANCELLED,
                },
            ),
            (S.CANCELLING, {S.CANCELLING, S.CANCELLED}),
            (S.COMPLETED, {S.COMPLETED}),
        ],
    )
    def test_from_a_status(self, start: Status, expected: set[Status]) -> None:
        """What can follow a status: itself and everything its edges lead to, transitively."""
        assert reachable(TRANSITIONS, start) == expected

    def test_strict_in_progress_never_fails(self) -> None:
        """Under strict, a batch in progress can no longer fail (fail is documented only from
        validating)."""
        assert S.FAILED not in reachable(transitions_for("strict"), S.IN_PROGRESS)
