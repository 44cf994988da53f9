"""Profiles: which edges of the lifecycle are allowed, and which wire quirks are read.

A profile used to be one string meaning three things (the codec read ``strict`` as
``openai``, the engine read ``openai`` as ``compat``). `Profile` holds the two choices
apart; the three presets and their names keep meaning what those strings meant.
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from ._errors import ArgumentError

__all__ = ["Profile", "Provenance"]


class Provenance(str, enum.Enum):
    """Where an edge (or a wire value) comes from: OpenAI's own spec or docs, or
    compatible services only."""

    DOCUMENTED = "documented"
    TOLERATED = "tolerated"


@attrs.frozen
class Profile:
    """What a `Lifecycle`, `validate`, `check_history`, `loads`, `structure` or a strategy
    accepts.

    Every ``profile=`` argument takes a `Profile` or a preset's name (``"openai"`` is
    `Profile.OPENAI`); anything else raises `ArgumentError`. ``str(profile)`` is its name.

    Attributes:
        name: The preset's name, as the command line spells it (any name, for a profile
            of your own).
        tolerated: Also allow the edges seen only in compatible services, and read
            undocumented wire values (an unknown endpoint, another window) as warnings;
            without it they are errors and the edges are refused.
        quirks: Read the spellings and omissions of compatible services (camelCase keys,
            ISO timestamps …), each reported as a ``compat.*`` warning. Decoding reads
            this choice alone.
    """

    name: str
    tolerated: bool
    quirks: bool

    STRICT: ClassVar[Profile]
    """OpenAI's documented behaviour only: ``Profile("strict", tolerated=False, quirks=False)``."""
    OPENAI: ClassVar[Profile]
    """The default: also the tolerated edges and values, ``Profile("openai", True, False)``."""
    COMPAT: ClassVar[Profile]
    """Also the quirks of compatible services, as warnings: ``Profile("compat", True, True)``."""

    @property
    def provenances(self) -> frozenset[Provenance]:
        """The provenances of the edges this profile allows."""
        if self.tolerated:
            return frozenset(Provenance)
        return frozenset({Provenance.DOCUMENTED})

    def __str__(self) -> str:
        return self.name


Profile.STRICT = Profile("strict", tolerated=False, quirks=False)
Profile.OPENAI = Profile("openai", tolerated=True, quirks=False)
Profile.COMPAT = Profile("compat", tolerated=True, quirks=True)

#: The presets by name, in order of leniency.
PRESETS: dict[str, Profile] = {p.name: p for p in (Profile.STRICT, Profile.OPENAI, Profile.COMPAT)}

PROFILES: tuple[str, ...] = tuple(PRESETS)
"""The names of the `Profile` presets, in order of leniency (``strict``, ``openai``,
``compat``): what the string form of every ``profile=`` argument, and ``batchfsm validate
--profile``, accept."""


def resolve(profile: object) -> Profile:
    """The `Profile` that `profile` (a `Profile` or a preset's name) stands for.

    Raises:
        ArgumentError: for anything else.
    """
    if isinstance(profile, Profile):
        return profile
    found = PRESETS.get(profile) if type(profile) is str else None
    if found is None:
        raise ArgumentError("profile", f"expected a Profile or one of {PROFILES}, got {profile!r}")
    return found
