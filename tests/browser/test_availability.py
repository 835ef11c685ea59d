"""Without Chromium the browser tests skip locally and say how to install it; in CI they fail."""

from __future__ import annotations

import pytest

from tests.browser.conftest import INSTALL_HINT, unavailable


def test_given_no_browser_outside_ci_then_the_tests_skip_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        unavailable(f"Chromium is not installed: {INSTALL_HINT}")


def test_given_no_browser_in_ci_then_the_tests_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("Chromium is not installed")
