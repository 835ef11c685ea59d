"""Who the caller is, as the authorizer told the handlers, and whether they belong to a workspace.

Kept apart from token verification (auth.py, the authorizer's only): API functions need none of
the JWT and cryptography machinery on their cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execution_monitor.errors import NotFound, Unauthorized


@dataclass(frozen=True)
class Principal:
    subject: str
    workspaces: frozenset[str]

    def authorizer_context(self) -> dict[str, str]:
        """What API Gateway carries to the handlers (string values only)."""
        return {"sub": self.subject, "workspaces": ",".join(sorted(self.workspaces))}


def principal_from_authorizer(context: dict[str, Any] | None) -> Principal:
    """The principal the authorizer put in the request context (the only source handlers trust)."""
    if not context or not context.get("sub"):
        raise Unauthorized("the request was not authorized")
    members = str(context.get("workspaces") or "")
    return Principal(subject=str(context["sub"]), workspaces=frozenset(filter(None, members.split(","))))


def require_member(principal: Principal, workspace_id: str) -> None:
    # Not a 403: a caller outside the workspace must not learn that it exists.
    if workspace_id not in principal.workspaces:
        raise NotFound("not found")
