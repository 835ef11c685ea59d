"""Sign-in: the token in the URL fragment (make dev), the sign-in page without one, and the
Cognito managed login flow (authorization code + PKCE) against a scripted identity provider."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tenant

pytestmark = pytest.mark.xdist_group("browser")

LOGIN = "https://login.example.test"


def test_given_the_printed_url_then_the_token_is_kept_for_the_tab_and_leaves_the_address_bar(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow(
        "signin", {"id": "wait", "type": "delay", "params": {"seconds": 0}}, name="Sign-in check"
    )

    page.goto(tenant.signed_in(tenant.page_path("signin")))

    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign-in check", timeout=10_000)
    assert "access_token" not in page.url
    assert page.evaluate("() => sessionStorage.getItem('execmon.accessToken')") == tenant.token
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_given_no_token_then_the_sign_in_page_explains_and_calls_no_api(page: Any, tenant: Tenant) -> None:
    api_calls: list[str] = []
    page.on("request", lambda request: api_calls.append(request.url) if "/api/" in request.url else None)

    page.goto(tenant.page_path())

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("main")).to_contain_text("make dev")
    assert api_calls == []


def test_given_a_signed_in_tab_when_signing_out_then_the_token_is_gone(page: Any, tenant: Tenant) -> None:
    page.goto(tenant.signed_in("/"))

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('execmon.accessToken')") is None


@pytest.mark.parametrize("context", [{"bypass_csp": True}], indirect=True)  # the CSP here allows 'self' only
def test_given_cognito_in_config_then_sign_in_runs_the_code_flow_with_pkce(page: Any, tenant: Tenant) -> None:
    config = {"auth": {"type": "cognito", "domain": f"{LOGIN}/", "clientId": "client-123"}}
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    authorize: list[str] = []

    def authorize_endpoint(route: Any) -> None:
        authorize.append(route.request.url)
        route.fulfill(status=204)  # a 204 leaves the browser on the monitor, where the test reads on

    page.route(f"{LOGIN}/oauth2/authorize?*", authorize_endpoint)
    exchanged: list[dict[str, list[str]]] = []

    def token_endpoint(route: Any) -> None:
        exchanged.append(parse_qs(route.request.post_data or ""))
        body = json.dumps({"access_token": tenant.token, "expires_in": 3600, "token_type": "Bearer"})
        route.fulfill(
            content_type="application/json", body=body, headers={"Access-Control-Allow-Origin": "*"}
        )

    page.route(f"{LOGIN}/oauth2/token", token_endpoint)
    page.goto(tenant.page_path())

    with page.expect_request(f"{LOGIN}/oauth2/authorize?*"):
        page.get_by_role("button", name="Sign in").click()
    query = parse_qs(urlsplit(authorize[0]).query)
    pending = json.loads(page.evaluate("() => sessionStorage.getItem('execmon.pkce')"))
    expected_challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(pending["verifier"].encode()).digest()).rstrip(b"=").decode()
    )
    origin = tenant.api.base_url.copy_with(path="/")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["client-123"]
    assert query["redirect_uri"] == [str(origin)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [expected_challenge]
    assert query["state"] == [pending["state"]]

    page.goto(f"/?code=the-code&state={pending['state']}")

    expect(page.get_by_role("heading", level=1)).to_contain_text(tenant.workspace_id)
    assert exchanged[0]["grant_type"] == ["authorization_code"]
    assert exchanged[0]["code"] == ["the-code"]
    assert exchanged[0]["code_verifier"] == [pending["verifier"]]
    assert page.evaluate("() => sessionStorage.getItem('execmon.accessToken')") == tenant.token
    assert urlsplit(page.url).path == tenant.page_path()  # back where sign-in started, code gone
    assert "code=" not in page.url


@pytest.mark.parametrize("context", [{"bypass_csp": True}], indirect=True)
def test_given_a_callback_whose_state_does_not_match_then_no_token_is_exchanged(
    page: Any, tenant: Tenant
) -> None:
    config = {"auth": {"type": "cognito", "domain": LOGIN, "clientId": "client-123"}}
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    exchanged: list[str] = []

    def token_endpoint(route: Any) -> None:
        exchanged.append(route.request.url)
        route.abort()

    page.route(f"{LOGIN}/oauth2/token", token_endpoint)
    page.goto("/")
    page.evaluate(
        """() => sessionStorage.setItem('execmon.pkce',
             JSON.stringify({ verifier: 'v', state: 'expected', returnTo: '/' }))"""
    )

    page.goto("/?code=stolen&state=forged")

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert exchanged == []
