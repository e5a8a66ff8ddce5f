"""COURSE_FAST=1 switches the notebooks to fast settings (tests on a slow model), loudly."""

from helpers.environment import FAST_ENV_VAR, fast_or


def test_full_settings_by_default(monkeypatch, capsys):
    monkeypatch.delenv(FAST_ENV_VAR, raising=False)
    assert fast_or(50, 6) == 50
    assert capsys.readouterr().out == ""


def test_fast_settings_say_so(monkeypatch, capsys):
    monkeypatch.setenv(FAST_ENV_VAR, "1")
    assert fast_or(50, 6) == 6
    assert "COURSE_FAST=1" in capsys.readouterr().out
    monkeypatch.setenv(FAST_ENV_VAR, "0")
    assert fast_or((0, 1, 2), (0,)) == (0, 1, 2)
