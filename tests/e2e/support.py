"""Helpers shared by the e2e tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
# The same import roots as the Makefile and pytest's `pythonpath` (a subprocess needs them in env).
IMPORT_ROOTS = [REPO_ROOT / "layers" / "common" / "python", REPO_ROOT / "functions", REPO_ROOT]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str) -> str:
    """An id no other test uses: tests share one runtime and never clean up."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def definition(*actions: dict[str, Any], name: str = "e2e workflow") -> dict[str, Any]:
    return {"name": name, "actions": list(actions) or [delay_action("wait", 0)]}


def delay_action(action_id: str, seconds: int) -> dict[str, Any]:
    return {"id": action_id, "type": "delay", "params": {"seconds": seconds}}


def workflow_path(workspace_id: str, workflow_id: str) -> str:
    return f"/api/workspaces/{workspace_id}/workflows/{workflow_id}"
