"""`FakeBatchAPI`: OpenAI's Batch API for tests, in virtual time, every batch driven by the
engine along the fate chosen for it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._clock import ManualClock
from ._codec import unstructure
from ._engine import Lifecycle
from ._errors import ArgumentError, GuardError, IllegalTransition
from ._fake_fate import Fate
from ._fake_files import (
    BAD_BATCH_FILE,
    FakeFile,
    Request,
    fated_problem,
    first_model,
    jsonl_head,
    outcome_line,
    problems,
    read_requests,
    unknown_file,
)
from ._fake_http import (
    ApiError,
    AsgiApp,
    AsyncFakeTransport,
    FakeTransport,
    missing,
    wrong_type,
)
from ._profile import Profile
from ._record import ENDPOINTS, Batch, BatchError, Status
from ._table import Event

if TYPE_CHECKING:
    from .store import Store

__all__ = ["FakeBatchAPI"]

#: The purposes a file may be uploaded with that OpenAI's ``file`` object can carry.
_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data")
_STATUS_NAMES = {status: status.value for status in Status}


@attrs.define(slots=True, kw_only=True, eq=False)
class _Run:
    """One batch the API holds, with its fate and its input's requests."""

    batch: Batch
    fate: Fate
    requests: list[Request]
    problems: list[BatchError]
    failing: frozenset[int]
    done: int = 0


def _listed(values: Iterable[str]) -> str:
    """Quoted values as OpenAI lists them: ``'a', 'b', and 'c'``."""
    quoted = [f"'{value}'" for value in sorted(values)]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _no_batch(batch_id: str) -> ApiError:
    """OpenAI's 404 for a batch id it does not know (retrieve, cancel, a list's ``after``)."""
    return ApiError(404, f"No batch found with id '{batch_id}'.")


def _failing(count: int, fraction: float) -> frozenset[int]:
    """`fraction` of `count` request indices, spread evenly."""
    return frozenset(i for i in range(count) if int((i + 1) * fraction) > int(i * fraction))


class FakeBatchAPI:
    """OpenAI's Batch API (batches and the file calls a batch client makes), for tests.

    Every batch is created and moved on by one `Lifecycle` along the `Fate` chosen for it,
    so every batch object it serves is one the engine made, and its polls pass
    `check_history`. Time is virtual: a batch moves on only when the clock does
    (`advance`), and nothing sleeps. Reach it through `transport()` or
    `async_transport()` (for an ``httpx`` client, the ``openai`` client's among them), or
    as the ASGI application `asgi` (``batchfsm serve``).

    Args:
        clock: What the API reads the time from: a `ManualClock` (a new one, at
            1_700_000_000, by default), or any zero-argument callable returning Unix
            seconds (``time.time`` for a real server).
        fate: The `Fate` of every batch, or a callable that is given each new batch (its
            ``metadata`` and ``endpoint`` are the caller's) and returns its `Fate`; by
            default every batch completes within about a minute.
        profile: The engine's profile: ``openai`` (default) also has the edges OpenAI
            takes but does not document, such as cancelling a batch still validating.
        store: A `batchfsm.store.Store` to keep the batches in: each is created and changed
            through the store (compare-and-set, an audit row per change, so
            ``store.history(batch_id)`` holds every change), and read back from it before
            each answer. The store's `Lifecycle` (its profile, hooks and ids) drives them;
            give the store this API's clock too, so that its audit rows are stamped in the
            same virtual time. The API serves the batches it created, not others the store
            holds. In memory by default.

    Raises:
        ArgumentError: for a clock, fate or store of the wrong kind, an unknown profile, or
            a profile given together with a store.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        fate: Fate | Callable[[Batch], Fate] | None = None,
        profile: Profile | str | None = None,
        store: Store | None = None,
    ) -> None:
        if clock is not None and not callable(clock):
            raise ArgumentError("clock", f"expected a callable clock, got {clock!r}")
        if fate is not None and not isinstance(fate, Fate) and not callable(fate):
            raise ArgumentError("fate", f"expected a Fate or a callable, got {fate!r}")
        self.clock: Callable[[], float] = clock if clock is not None else ManualClock()
        self._fate = fate if fate is not None else Fate()
        ids = itertools.count(1)
        self._ids = ids
        self._store = store
        if store is None:
            self.lifecycle = Lifecycle(
                self.clock,
                profile="openai" if profile is None else profile,
                id_factory=lambda: f"batch_{next(ids):032x}",
            )
        else:
            from .store import Store

            if not isinstance(store, Store):
                raise ArgumentError("store", f"expected a batchfsm.store.Store, got {store!r}")
            if profile is not None:
                raise ArgumentError("profile", "give the profile to the store's Lifecycle")
            self.lifecycle = store.lifecycle
        self._runs: dict[str, _Run] = {}
        self._files: dict[str, FakeFile] = {}
        self._lock = threading.RLock()

    # -- time ----------------------------------------------------------------------------

    def now(self) -> int:
        """The clock's reading, in whole seconds."""
        return int(self.clock())

    def advance(self, seconds: int) -> int:
        """Move the virtual clock on by `seconds`, and every batch along its fate.

        Returns:
            The new reading.

        Raises:
            ArgumentError: unless the clock is a `ManualClock`, or for a negative or
                non-integer `seconds` (virtual time does not step back).
        """
        if not isinstance(self.clock, ManualClock):
            raise ArgumentError("clock", "advance() needs a ManualClock; this API reads a real one")
        if type(seconds) is not int or seconds < 0:
            raise ArgumentError("seconds", f"expected non-negative int seconds, got {seconds!r}")
        with self._lock:
            reading = self.clock.advance(seconds)
            self._settle_all()
        return reading

    # -- how a client reaches it -------------------------------------------------------

    def transport(self) -> Any:
        """An ``httpx`` transport answering from this API, a `FakeTransport`:
        ``httpx.Client(transport=api.transport())`` (any base URL). It serves ``httpx``'s
        and ``httpx2``'s clients alike, so it is typed as either's transport."""
        return FakeTransport(self)

    def async_transport(self) -> Any:
        """An async ``httpx`` transport answering from this API, an `AsyncFakeTransport`,
        for ``httpx.AsyncClient`` (or ``httpx2``'s)."""
        return AsyncFakeTransport(self)

    @property
    def asgi(self) -> AsgiApp:
        """This API as an ASGI application, for any ASGI server."""
        return AsgiApp(self)

    # -- what a test may read ------------------------------------------------------------

    @property
    def store(self) -> Store | None:
        """The store the batches are kept in, or None when they are kept in memory."""
        return self._store

    def batches(self) -> list[Batch]:
        """A copy of every batch, oldest first, each as of the clock's reading."""
        with self._lock:
            self._settle_all()
            return [self.lifecycle.snapshot(run.batch) for run in self._runs.values()]

    # -- the API's operations, each answering with a wire object or raising ApiError -----

    def _api_upload(self, *, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        """``POST /v1/files``: store a file. A ``batch`` file must be a ``.jsonl`` file of
        UTF-8 text whose first line is a JSON object: OpenAI refuses any other at upload,
        and finds the problems of later lines while validating the batch."""
        if purpose not in _PURPOSES:
            allowed = ", ".join(repr(p) for p in _PURPOSES)
            raise ApiError(
                400,
                f"Invalid value for 'purpose': expected one of {allowed}.",
                param="purpose",
                code="invalid_value",
            )
        if purpose == "batch" and not (filename.endswith(".jsonl") and jsonl_head(content)):
            raise ApiError(400, BAD_BATCH_FILE)
        with self._lock:
            return self._store_file(filename, purpose, content).wire()

    def _api_file(self, file_id: str) -> dict[str, Any]:
        """``GET /v1/files/{file_id}``."""
        with self._lock:
            return self._file(file_id).wire()

    def _api_content(self, file_id: str) -> bytes:
        """``GET /v1/files/{file_id}/content``."""
        with self._lock:
            return self._file(file_id).content

    def _api_create(self, body: object) -> dict[str, Any]:
        """``POST /v1/batches``: a new batch, validating, with its fate chosen."""
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if name not in body:
                raise missing(name)
            if not isinstance(body[name], str):
                raise wrong_type(name, "a string", body[name])
        file_id, endpoint = body["input_file_id"], body["endpoint"]
        window = body["completion_window"]
        if endpoint not in ENDPOINTS:
            raise ApiError(
                400,
                f"Invalid value: '{endpoint}'. Supported values are: {_listed(ENDPOINTS)}.",
                param="endpoint",
                code="invalid_value",
            )
        if window != "24h":
            raise ApiError(
                400,
                f"Invalid value: '{window}'. Supported values are: '24h'.",
                param="completion_window",
                code="invalid_value",
            )
        if not file_id.startswith("file"):
            raise ApiError(
                400,
                f"Invalid 'input_file_id': '{file_id}'. Expected an ID that begins with 'file'.",
                param="input_file_id",
                code="invalid_value",
            )
        metadata = body.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise wrong_type("metadata", "an object", metadata)
            for key, value in metadata.items():
                if not isinstance(value, str):
                    raise wrong_type(f"metadata.{key}", "a string", value)
        with self._lock:
            source = self._files.get(file_id)
            requests = read_requests(source.content) if source is not None else []
            model = first_model(requests)
            create = self.lifecycle.create if self._store is None else self._store.create
            try:
                batch = create(
                    input_file_id=file_id,
                    endpoint=endpoint,
                    completion_window=window,
                    metadata=metadata,
                    model=model,
                    now=self.now(),
                )
            except GuardError as refused:
                raise ApiError(
                    400, refused.detail, param="metadata", code="invalid_value"
                ) from None
            fate = self._fate_of(batch)
            if source is None or source.purpose != "batch":
                found = [unknown_file(file_id)]
            else:
                found = problems(requests, endpoint)
                if not found and fate.invalid is not None:
                    found = [fated_problem(fate.invalid, requests)]
            run = _Run(
                batch=batch,
                fate=fate,
                requests=requests,
                problems=found,
                failing=_failing(len(requests), fate.failing),
            )
            self._runs[batch.id] = run
            self._settle(run, self.now())
            return self._wire(run)

    def _api_retrieve(self, batch_id: str) -> dict[str, Any]:
        """``GET /v1/batches/{batch_id}``."""
        with self._lock:
            run = self._run(batch_id)
            self._settle(run, self.now())
            return self._wire(run)

    def _api_cancel(self, batch_id: str) -> dict[str, Any]:
        """``POST /v1/batches/{batch_id}/cancel``: a finished batch is answered with 409, as
        OpenAI answers; a cancelling or cancelled one is returned as it is."""
        with self._lock:
            run = self._run(batch_id)
            now = self.now()
            self._settle(run, now)
            try:
                self._fire(run, Event.CANCEL, now=now)
            except IllegalTransition as refused:
                status = _STATUS_NAMES[refused.status]
                raise ApiError(409, f"Cannot cancel a batch with status '{status}'.") from None
            return self._wire(run)

    def _api_list(self, *, after: str | None = None, limit: int = 20) -> dict[str, Any]:
        """``GET /v1/batches``: newest first, `limit` (0 to 100) after the batch `after`."""
        if not 0 <= limit <= 100:
            low = limit < 0
            word, bound = ("below minimum", ">= 0") if low else ("above maximum", "<= 100")
            raise ApiError(
                400,
                f"Invalid 'limit': integer {word} value. Expected a value {bound},"
                f" but got {limit} instead.",
                param="limit",
                code="integer_below_min_value" if low else "integer_above_max_value",
            )
        with self._lock:
            self._settle_all()
            newest = list(reversed(self._runs.values()))
            start = 0
            if after is not None:
                ids = [run.batch.id for run in newest]
                if after not in ids:
                    raise _no_batch(after)
                start = ids.index(after) + 1
            page = newest[start : start + limit]
            data = [self._wire(run) for run in page]
            return {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                # An empty page (limit 0) says nothing follows, or a paginator would spin.
                "has_more": bool(data) and start + limit < len(newest),
            }

    # -- inside ------------------------------------------------------------------------

    def _fate_of(self, batch: Batch) -> Fate:
        if isinstance(self._fate, Fate):
            return self._fate
        chosen = self._fate(self.lifecycle.snapshot(batch))
        if not isinstance(chosen, Fate):
            raise ArgumentError("fate", f"the fate callable returned {chosen!r}, not a Fate")
        return chosen

    def _store_file(self, filename: str, purpose: str, content: bytes) -> FakeFile:
        stored = FakeFile(
            id=f"file-{next(self._ids):024x}",
            filename=filename,
            purpose=purpose,
            created_at=self.now(),
            content=content,
        )
        self._files[stored.id] = stored
        return stored

    def _file(self, file_id: str) -> FakeFile:
        found = self._files.get(file_id)
        if found is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return found

    def _run(self, batch_id: str) -> _Run:
        found = self._runs.get(batch_id)
        if found is None:
            raise _no_batch(batch_id)
        return found

    def _wire(self, run: _Run) -> dict[str, Any]:
        # Under the API's lock, which every change of its batches is made under: the batch
        # is whole here, and unstructure makes a new object of it (no copy needed first).
        wire: dict[str, Any] = unstructure(run.batch)
        return wire

    def _fire(self, run: _Run, event: Event, *, now: int | None = None, **data: Any) -> None:
        """Fire `event` on the run's batch: on the batch itself, or through the store (which
        hands back the batch as stored)."""
        if self._store is None:
            self.lifecycle.fire(run.batch, event, now=now, **data)
        else:
            run.batch = self._store.apply(run.batch.id, event, now=now, **data)

    def _settle_all(self) -> None:
        now = self.now()
        for run in self._runs.values():
            self._settle(run, now)

    def _progress(self, run: _Run, until: int) -> None:
        """Record the requests finished by `until`, evenly over the fate's running time."""
        batch, count = run.batch, len(run.requests)
        started = batch.in_progress_at if batch.in_progress_at is not None else until
        running = run.fate.running
        done = count if running == 0 else min(count, count * max(0, until - started) // running)
        if done <= run.done:
            return
        failed = sum(1 for i in range(run.done, done) if i in run.failing)
        self._fire(run, Event.RECORD_PROGRESS, completed=done - run.done - failed, failed=failed)
        run.done = done

    def _settle(self, run: _Run, now: int) -> None:
        """Fire every event the batch's fate schedules up to `now`, each stamped with the
        second it was due, so polls between them see the batch as it was then.

        A batch expires at its deadline only while its requests run: one that has begun
        finalizing (every request done) completes, however long that takes, as OpenAI's
        batches do (docs/fake-api.md).
        """
        if self._store is not None:  # the store's copy is the batch
            run.batch = self._store.get(run.batch.id)
        fate = run.fate
        while True:
            batch = run.batch
            status = batch.status
            if status is Status.VALIDATING:
                due = batch.created_at + fate.validating
                if now < due:
                    return
                if run.problems:
                    self._fire(run, Event.FAIL, now=due, errors=run.problems)
                    return
                self._fire(run, Event.START, now=due, total=len(run.requests))
            elif status is Status.IN_PROGRESS:
                started = batch.in_progress_at or batch.created_at
                ends = started + fate.running
                deadline = batch.expires_at if batch.expires_at is not None else ends + 1
                cancel_at = started + fate.cancel_after if fate.cancel_after is not None else None
                due = min(ends, deadline, cancel_at if cancel_at is not None else ends)
                self._progress(run, min(now, due))
                if now < due:
                    return
                if cancel_at is not None and due == cancel_at and cancel_at < deadline:
                    self._fire(run, Event.CANCEL, now=due)
                elif due == ends and ends < deadline:
                    self._fire(run, Event.FINALIZE, now=due)
                else:
                    files = self._results(run, "expired", deadline)
                    self._fire(run, Event.EXPIRE, now=deadline, **files)
                    return
            elif status is Status.FINALIZING:
                due = (batch.finalizing_at or batch.created_at) + fate.finalizing
                if now < due:
                    return
                self._fire(run, Event.COMPLETE, now=due, **self._results(run, "expired", due))
                return
            elif status is Status.CANCELLING:
                due = (batch.cancelling_at or batch.created_at) + fate.cancelling
                if now < due:
                    return
                files = self._results(run, "cancelled", due)
                self._fire(run, Event.FINISH_CANCEL, now=due, **files)
                return
            else:
                return

    def _results(self, run: _Run, unrun: str, stamp: int) -> dict[str, str | None]:
        """Write the output and error files of a batch that stops now: the requests that
        ran, and (in the error file) those that failed or did not run, for `unrun`."""
        batch = run.batch
        endpoint = batch.endpoint or ""
        output: list[bytes] = []
        errors: list[bytes] = []
        for index, request in enumerate(run.requests):
            if index >= run.done:
                errors.append(outcome_line(batch.id, endpoint, request, unrun, stamp))
            elif index in run.failing:
                errors.append(outcome_line(batch.id, endpoint, request, "failed", stamp))
            else:
                output.append(outcome_line(batch.id, endpoint, request, "succeeded", stamp))
        files: dict[str, str | None] = {"output_file_id": None, "error_file_id": None}
        for key, lines, kind in (
            ("output_file_id", output, "output"),
            ("error_file_id", errors, "error"),
        ):
            if lines:
                name = f"{batch.id}_{kind}.jsonl"
                files[key] = self._store_file(name, "batch_output", b"".join(lines)).id
        return files

    def __repr__(self) -> str:
        return f"FakeBatchAPI(clock={self.clock!r}, batches={len(self._runs)})"
