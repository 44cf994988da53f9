"""The lifecycle table: one edge per (event, source), every status reachable, profiles."""

from __future__ import annotations

import attrs
import pytest

from batchfsm import EVENTS, IDEMPOTENT, TERMINAL, TRANSITIONS, Provenance, Status
from batchfsm._record import TIMESTAMP_FIELDS
from batchfsm._table import INITIAL, carried_stamps, reachable, transitions_for


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
