"""The peer fixtures: a missing peer skips the test, except under CI=true, where it fails."""

from __future__ import annotations

import shutil

import pytest

from .conftest import require


def test_missing_peer_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="'nghttp' is not installed"):
        require("nghttp")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="'nghttp' is not installed"):
        require("nghttp")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require("nghttp")


def test_present_peer_is_found() -> None:
    path = shutil.which("sh")
    assert path is not None
    assert require("sh") == path
