"""batchfsm: the lifecycle of an OpenAI-style Batch object, as data and as a state machine."""

from ._codec import PROFILES, dumps, loads, structure, unstructure
from ._engine import Lifecycle, TransitionHook
from ._errors import (
    ArgumentError,
    BatchfsmError,
    GuardError,
    HookError,
    IllegalTransition,
    PayloadError,
    Severity,
    TransitionError,
    Violation,
)
from ._record import (
    ENDPOINTS,
    Batch,
    BatchError,
    BatchErrors,
    InputTokensDetails,
    OutputTokensDetails,
    RequestCounts,
    Status,
    Usage,
)
from ._table import EVENTS, IDEMPOTENT, TERMINAL, TRANSITIONS, Provenance, Transition
from ._validate import Report, check_history, validate

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "Batch",
    "BatchError",
    "BatchErrors",
    "BatchfsmError",
    "ENDPOINTS",
    "EVENTS",
    "GuardError",
    "HookError",
    "IDEMPOTENT",
    "IllegalTransition",
    "InputTokensDetails",
    "Lifecycle",
    "OutputTokensDetails",
    "PROFILES",
    "PayloadError",
    "Provenance",
    "Report",
    "RequestCounts",
    "Severity",
    "Status",
    "TERMINAL",
    "TRANSITIONS",
    "Transition",
    "TransitionError",
    "TransitionHook",
    "Usage",
    "Violation",
    "check_history",
    "dumps",
    "loads",
    "structure",
    "unstructure",
    "validate",
]
