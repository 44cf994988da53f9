"""batchfsm: the lifecycle of an OpenAI-style Batch object, as data and as a state machine."""

from typing import TYPE_CHECKING, Any

from ._codec import dumps, loads, structure, unstructure
from ._errors import (
    MAX_PER_CODE,
    ArgumentError,
    BatchfsmError,
    GuardError,
    HookError,
    IllegalTransition,
    PayloadError,
    ReentryError,
    Severity,
    TransitionError,
    Violation,
)
from ._profile import PROFILES, Profile, Provenance
from ._providers import PROVIDERS, from_provider, to_provider
from ._record import (
    ENDPOINTS,
    KNOWN_STATUSES,
    Batch,
    BatchError,
    BatchErrors,
    InputTokensDetails,
    OutputTokensDetails,
    RequestCounts,
    Status,
    Usage,
)
from ._rules import RULES, Rule, Stage
from ._schema import json_schema
from ._table import EVENTS, IDEMPOTENT, TERMINAL, TRANSITIONS, Event, Operation, Transition
from ._validate import Report, check_history, validate

if TYPE_CHECKING:
    from ._engine import Lifecycle, Sweep, TransitionHook

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The engine (and transitions, logging, secrets with it) is imported on first use:
    # `batchfsm validate` and services that only validate start ~30 ms sooner.
    if name in ("Lifecycle", "Sweep", "TransitionHook"):
        from . import _engine

        return getattr(_engine, name)
    raise AttributeError(f"module 'batchfsm' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "Batch",
    "BatchError",
    "BatchErrors",
    "BatchfsmError",
    "ENDPOINTS",
    "EVENTS",
    "Event",
    "GuardError",
    "HookError",
    "IDEMPOTENT",
    "IllegalTransition",
    "InputTokensDetails",
    "KNOWN_STATUSES",
    "Lifecycle",
    "MAX_PER_CODE",
    "Operation",
    "OutputTokensDetails",
    "PROFILES",
    "PROVIDERS",
    "PayloadError",
    "Profile",
    "Provenance",
    "RULES",
    "ReentryError",
    "Report",
    "RequestCounts",
    "Rule",
    "Severity",
    "Stage",
    "Status",
    "Sweep",
    "TERMINAL",
    "TRANSITIONS",
    "Transition",
    "TransitionError",
    "TransitionHook",
    "Usage",
    "Violation",
    "check_history",
    "dumps",
    "from_provider",
    "json_schema",
    "loads",
    "structure",
    "to_provider",
    "unstructure",
    "validate",
]
