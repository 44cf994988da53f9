"""Profiles: two choices held apart, three presets, and the names that keep working."""

from __future__ import annotations

from typing import Any

import pytest

import batchfsm
from batchfsm import ArgumentError, Lifecycle, Profile, Provenance
from batchfsm._examples import base_payload
from batchfsm._profile import PRESETS, resolve

from helpers.driving import Clock


class TestPresets:
    def test_names_resolve_to_presets(self) -> None:
        """Each preset's name stands for it, and a Profile stands for itself."""
        assert batchfsm.PROFILES == ("strict", "openai", "compat")
        for name, profile in PRESETS.items():
            assert resolve(name) is profile
            assert resolve(profile) is profile
            assert str(profile) == name

    def test_the_choices_of_each_preset(self) -> None:
        """strict allows documented edges only and reads no quirk; openai tolerates;
        compat also reads quirks."""
        assert (Profile.STRICT.tolerated, Profile.STRICT.quirks) == (False, False)
        assert (Profile.OPENAI.tolerated, Profile.OPENAI.quirks) == (True, False)
        assert (Profile.COMPAT.tolerated, Profile.COMPAT.quirks) == (True, True)
        assert Profile.STRICT.provenances == {Provenance.DOCUMENTED}
        assert Profile.OPENAI.provenances == set(Provenance)

    @pytest.mark.parametrize("bad", ["azure", None, 1, "OPENAI"])
    def test_anything_else_is_refused(self, bad: Any) -> None:
        """Anything but a Profile or a preset's name is an ArgumentError showing it."""
        with pytest.raises(ArgumentError) as info:
            resolve(bad)
        assert info.value.argument == "profile"
        assert repr(bad) in info.value.reason


class TestMeaning:
    def test_a_string_means_what_it_meant(self) -> None:
        """Every entry point gives the same answers for a preset and for its name."""
        quirky = {**base_payload(), "status": "Completed", "endpoint": "/v1/other"}
        for name, profile in PRESETS.items():
            assert batchfsm.validate(quirky, profile=name) == batchfsm.validate(
                quirky, profile=profile
            )
            assert Lifecycle(Clock(), profile=name).transitions == (
                Lifecycle(Clock(), profile=profile).transitions
            )

    def test_the_codec_reads_quirks_only_when_asked(self) -> None:
        """strict and openai decode alike (canonical payloads only); compat reads quirks."""
        quirky = {**base_payload(), "status": "Completed"}
        for profile in (Profile.STRICT, Profile.OPENAI):
            with pytest.raises(batchfsm.PayloadError):
                batchfsm.structure(quirky, profile=profile)
        assert (
            batchfsm.structure(quirky, profile=Profile.COMPAT).status is batchfsm.Status.COMPLETED
        )

    def test_a_profile_of_ones_own(self) -> None:
        """A Profile made by hand (documented edges, quirks read) combines the two choices."""
        mine = Profile("mine", tolerated=False, quirks=True)
        quirky = {**base_payload(), "status": "Completed", "endpoint": "/v1/other"}
        report = batchfsm.validate(quirky, profile=mine)
        codes = {(v.code, v.severity.value) for v in report.violations}
        assert codes == {("compat.status_case", "warning"), ("endpoint.unknown", "error")}
        assert (
            Lifecycle(Clock(), profile=mine).transitions
            == Lifecycle(Clock(), profile="strict").transitions
        )
