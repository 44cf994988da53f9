"""Pydantic models of the official SDKs (``openai.types.Batch``, Anthropic's ``MessageBatch``,
Mistral's ``BatchJobOut`` …) read as the wire object they were made from, without importing
any SDK: anything whose type has a callable ``model_dump`` is one.

``model_dump(mode="json", by_alias=True, exclude_unset=True)`` is what the SDKs' own
``to_dict()`` calls: JSON values (an RFC 3339 string for a datetime), each field under its
wire name (Mistral's SDK names ``object`` ``OBJECT``), and only the keys the model was given,
so a model the SDK parsed from a response dumps as that response's object (a key the response
left out is not written as null; unknown keys, which the SDKs keep, are written back). Without
pydantic's warnings: a value of the wrong type (which the SDKs keep, unvalidated) is what
batchfsm reports, at its path.
"""

from __future__ import annotations

from typing import Any

from ._errors import ArgumentError

__all__ = ["NOT_A_MODEL", "model_wire"]

#: What `model_wire` returns for a value that is no model.
NOT_A_MODEL: Any = object()


def model_wire(data: object, argument: str = "data") -> Any:
    """The wire object of a pydantic model (a JSON value: a dict for a batch), or
    `NOT_A_MODEL` when the type of `data` has no callable ``model_dump``.

    It is ``model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)``; a
    ``model_dump`` that does not take those keywords is called with ``mode="json"`` alone.

    Raises:
        ArgumentError: naming `argument`, when ``model_dump`` raises (the model's own
            exception is the ``__cause__``).
    """
    dump = getattr(type(data), "model_dump", None)  # the type's: no __getattr__ runs
    if not callable(dump):
        return NOT_A_MODEL
    name = type(data).__name__
    try:
        try:
            return dump(data, mode="json", by_alias=True, exclude_unset=True, warnings=False)
        except TypeError:  # a model_dump without pydantic's keywords
            return dump(data, mode="json")
    except Exception as error:
        why = f"{type(error).__name__}: {error!s:.200}"
        raise ArgumentError(argument, f"{name}.model_dump(mode='json') raised {why}") from error
