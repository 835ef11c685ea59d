"""What one synthesis of the app produced, as the infrastructure tests read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infrastructure.constants import STACK_NAME
from infrastructure.stack import ExecutionMonitorStack, create_app

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
# CDK's own deploy-time functions (BucketDeployment copying web/, the monitor bucket's auto-delete)
# and their roles: CDK chooses their runtime, code and grants (constructs/hosting.py acknowledges them).
CDK_PROVIDED = ("CustomCDKBucketDeployment", "CustomS3AutoDeleteObjects")


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: ExecutionMonitorStack
    outdir: Path
    template: Template
    resources: dict[str, dict[str, Any]]
    synth_error: str | None  # the validation failure message, when cdk-nag (or CDK) rejected the app

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"

    @property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == resource_type}

    def of_our_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of a type, without CDK's own deploy-time functions and their roles."""
        return {
            lid: res for lid, res in self.of_type(resource_type).items() if not lid.startswith(CDK_PROVIDED)
        }

    def logical_id(self, construct: Any) -> str:
        # Resolving the element's logical id honours override_logical_id (pinned stateful resources).
        return str(Stack.of(self.stack).resolve(construct.node.default_child.logical_id))

    def role_statements(self, function: Any) -> list[dict[str, Any]]:
        """Every policy statement of a function's (or state machine's) role, inline and attached."""
        role_id = self.logical_id(function.role)
        role = self.resources[role_id]["Properties"]
        statements = [s for inline in role.get("Policies", []) for s in inline["PolicyDocument"]["Statement"]]
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> Synthesized:
    """Synthesizes the real app (cdk-nag included) without bundling into `outdir`."""
    app, stack = create_app(outdir=str(outdir), context=context or SKIP_BUNDLING)
    synth_error = None
    try:
        app.synth()
    except Exception as error:  # a validation failure still writes the template and the report
        synth_error = str(error)
    template_json = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return Synthesized(
        app=app,
        stack=stack,
        outdir=outdir,
        template=Template.from_json(template_json),
        resources=template_json["Resources"],
        synth_error=synth_error,
    )
