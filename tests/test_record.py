"""The attrs records: fields, defaults, equality by value, mutability, slots."""

from __future__ import annotations

import attrs
import pytest

from batchfsm import Batch, BatchError, BatchErrors, RequestCounts, Status
from batchfsm._record import REQUIRED_FIELDS, TIMESTAMP_FIELDS


def _batch(**changes: object) -> Batch:
    fields: dict[str, object] = {
        "id": "batch_1",
        "endpoint": "/v1/responses",
        "input_file_id": "file-1",
        "status": Status.VALIDATING,
        "created_at": 1,
    }
    fields.update(changes)
    return Batch(**fields)  # type: ignore[arg-type]


class TestStatus:
    def test_values_are_wire_strings(self) -> None:
        """Each Status value is its wire string; there are exactly eight."""
        assert Status.IN_PROGRESS.value == "in_progress"
        assert [s.value for s in Status] == [
            "validating",
            "failed",
            "in_progress",
            "finalizing",
            "completed",
            "expired",
            "cancelling",
            "cancelled",
        ]

    def test_str_is_the_value(self) -> None:
        """str(status) is the wire string, for messages and logs."""
        assert str(Status.CANCELLING) == "cancelling"
        assert f"{Status.COMPLETED}" == "completed"


class TestBatch:
    def test_wire_fields(self) -> None:
        """Batch has every field of the wire object, in wire order, plus bookkeeping."""
        names = [a.name for a in attrs.fields(Batch)]
        assert names[:22] == [
            "id",
            "object",
            "endpoint",
            "model",
            "errors",
            "input_file_id",
            "completion_window",
            "status",
            "output_file_id",
            "error_file_id",
            *TIMESTAMP_FIELDS,
            "request_counts",
            "usage",
            "metadata",
        ]
        assert names[22:] == ["extra", "omitted", "normalizations"]
        assert set(names) >= REQUIRED_FIELDS

    def test_hand_built_defaults(self) -> None:
        """A hand-built Batch gets the canonical object and window and no optional values."""
        batch = _batch()
        assert (batch.object, batch.completion_window) == ("batch", "24h")
        assert batch.in_progress_at is None
        assert batch.extra == {}
        assert batch.omitted == frozenset()

    def test_equal_by_value(self) -> None:
        """Two records with the same values are equal; a changed stamp makes them differ."""
        first, second = _batch(), _batch()
        assert first == second
        second.in_progress_at = 2
        assert first != second

    def test_mutable_and_slotted(self) -> None:
        """The record is mutable (the engine stamps in place) and slotted (no __dict__)."""
        batch = _batch()
        batch.status = Status.IN_PROGRESS
        assert batch.status is Status.IN_PROGRESS
        assert not hasattr(batch, "__dict__")
        with pytest.raises(AttributeError):
            batch.unknown_attribute = 1  # type: ignore[attr-defined]

    def test_unhashable(self) -> None:
        """Mutable records are not hashable, so they cannot be lost in a set by value."""
        with pytest.raises(TypeError):
            hash(_batch())

    def test_keyword_only(self) -> None:
        """Fields are keyword-only: 22 positional values would be unreadable."""
        with pytest.raises(TypeError):
            Batch("batch_1")  # type: ignore[call-arg]

    def test_nested_defaults(self) -> None:
        """Nested records default to the canonical empty values."""
        assert RequestCounts() == RequestCounts(total=0, completed=0, failed=0)
        assert BatchErrors().object == "list"
        assert BatchErrors().data == []
        assert BatchErrors().data is not BatchErrors().data


class TestOmittedInEquality:
    def test_a_name_counts_only_while_its_value_is_none(self) -> None:
        """An omitted name whose field has a value leaves nothing out of the wire object, so
        it makes no difference to equality."""
        omitting, not_omitting = _batch(), _batch()
        omitting.omitted = frozenset({"model", "in_progress_at"})
        assert omitting != not_omitting  # absent keys against nulls
        for batch in (omitting, not_omitting):
            batch.model = "m"
            batch.in_progress_at = 2
        assert omitting == not_omitting
        omitting.model = None
        not_omitting.model = None
        assert omitting != not_omitting  # model is absent again on one side only

    def test_nested_records_compare_alike(self) -> None:
        """The errors object and its entries track omitted names the same way."""
        left, right = BatchError(code="c"), BatchError(code="c")
        left.omitted = frozenset({"code"})
        assert left == right
        assert BatchErrors(data=None, omitted=frozenset({"data"})) != BatchErrors(data=None)
        assert BatchErrors(data=[left]) == BatchErrors(data=[right])

    def test_names_set_by_hand_that_are_no_keys_still_count(self) -> None:
        """A name that is no key (which the writers refuse) or an omitted value that is no set
        of names is compared as it is, never raised on."""
        strange, plain = _batch(), _batch()
        strange.omitted = frozenset({"nope"})
        assert strange != plain
        strange.omitted = 5  # type: ignore[assignment]
        assert strange != plain
        assert strange == strange

    def test_other_types_are_not_equal(self) -> None:
        """A record is never equal to another type, nor to a record of another class."""
        assert _batch() != "batch"
        assert BatchError() != BatchErrors()
