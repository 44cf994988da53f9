"""batchfsm: the lifecycle of an OpenAI-style Batch object, as data and as a state machine."""

from ._codec import PROFILES, dumps, loads, structure, unstructure
from ._errors import ArgumentError, BatchfsmError, PayloadError, Severity, Violation
from ._record import (
    Batch,
    BatchError,
    BatchErrors,
    InputTokensDetails,
    OutputTokensDetails,
    RequestCounts,
    Status,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "Batch",
    "BatchError",
    "BatchErrors",
    "BatchfsmError",
    "InputTokensDetails",
    "OutputTokensDetails",
    "PROFILES",
    "PayloadError",
    "RequestCounts",
    "Severity",
    "Status",
    "Usage",
    "Violation",
    "dumps",
    "loads",
    "structure",
    "unstructure",
]
