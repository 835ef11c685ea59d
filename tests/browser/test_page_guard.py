"""The `page` fixture's guard: a CSP violation on a monitor page is caught (so the other browser
tests really prove the pages need no inline script or style)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Tenant

pytestmark = pytest.mark.xdist_group("browser")


def test_given_an_inline_style_on_a_monitor_page_then_the_csp_refuses_it_and_says_so(
    context: Any, tenant: Tenant
) -> None:
    page = context.new_page()
    page.goto(tenant.signed_in("/"))
    page.get_by_role("heading", name="Execution Monitor").wait_for()

    with page.expect_console_message(lambda message: "Content Security Policy" in message.text) as refused:
        page.evaluate(
            "() => { document.querySelector('main').innerHTML += '<p style=\"color: red\">x</p>'; }"
        )

    assert "inline style" in refused.value.text
    color = page.evaluate("() => getComputedStyle(document.querySelector('main p:last-child')).color")
    assert color != "rgb(255, 0, 0)"
