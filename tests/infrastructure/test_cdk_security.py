"""Least privilege, cdk-nag (AwsSolutions) and cfn-lint on the synthesized stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnResource

from infrastructure.constructs.data import READ_ACTIONS
from infrastructure.nag import MIN_REASON_LENGTH
from infrastructure.routes import ROUTES
from infrastructure.stack import ROUTE_PERMISSIONS
from tests.infrastructure.synthesis import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

REPO_ROOT = Path(__file__).resolve().parents[2]
# The only actions that need Resource "*": X-Ray has no resource-level permissions.
ACTIONS_ALLOWED_ON_ANY_RESOURCE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Step Functions' own tracing and vended-logs delivery, which AWS documents as resource-less.
STATE_MACHINE_ACTIONS_ON_ANY_RESOURCE = {
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _all_statements(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """Our policies' statements (CDK's BucketDeployment grants are its own, acknowledged in hosting.py)."""
    statements = []
    for logical_id, policy in synthesized.of_our_type("AWS::IAM::Policy").items():
        statements += [(logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for logical_id, role in synthesized.of_our_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            statements += [(logical_id, s) for s in inline["PolicyDocument"]["Statement"]]
    return statements


def _role_statements(synthesized: Synthesized, function: Any) -> list[dict[str, Any]]:
    return synthesized.role_statements(function)


def _table_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }


def _index_access(statements: list[dict[str, Any]]) -> bool:
    return any("/index/" in json.dumps(statement["Resource"]) for statement in statements)


# -- IAM ------------------------------------------------------------------------------------------


def test_every_route_function_declares_its_permissions() -> None:
    assert {route.function for route in ROUTES} <= set(ROUTE_PERMISSIONS)


def test_read_handlers_cannot_write_to_the_table(synthesized: Synthesized) -> None:
    readers = [folder for folder, p in ROUTE_PERMISSIONS.items() if p.read and not p.writes]
    assert {"get_workflow", "get_execution", "list_executions"} <= set(readers)
    for folder in readers:
        if folder not in synthesized.stack.route_functions:
            continue
        statements = _role_statements(synthesized, synthesized.stack.route_functions[folder])
        assert _table_actions(statements) == set(READ_ACTIONS), folder
        assert _index_access(statements), folder  # list pages query the indexes


def test_put_workflow_may_only_update_items_of_the_table(synthesized: Synthesized) -> None:
    statements = _role_statements(synthesized, synthesized.stack.route_functions["put_workflow"])
    assert _table_actions(statements) == {"dynamodb:UpdateItem"}
    assert not _index_access(statements)


def test_each_route_function_gets_exactly_the_table_actions_it_declares(synthesized: Synthesized) -> None:
    for folder, function in synthesized.stack.route_functions.items():
        permissions = ROUTE_PERMISSIONS[folder]
        expected = (set(READ_ACTIONS) if permissions.read else set()) | set(permissions.writes)
        assert _table_actions(_role_statements(synthesized, function)) == expected, folder


def test_the_authorizer_and_the_openapi_function_have_no_table_access(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    for function in (stack.auth.authorizer_function.function, stack.route_functions["get_openapi"]):
        assert _table_actions(_role_statements(synthesized, function)) == set()


def test_no_policy_grants_wildcard_actions(synthesized: Synthesized) -> None:
    for logical_id, statement in _all_statements(synthesized):
        for action in _as_list(statement["Action"]):
            assert action != "*", logical_id
            assert not action.endswith(":*"), (logical_id, action)
            assert "*" not in action, (logical_id, action)


def test_only_tracing_and_log_delivery_are_granted_on_any_resource(synthesized: Synthesized) -> None:
    machine_role = synthesized.logical_id(synthesized.stack.state_machine.role)
    progress_role = synthesized.logical_id(synthesized.stack.stream_consumer.function.role)
    for logical_id, statement in _all_statements(synthesized):
        if "*" in _as_list(statement["Resource"]):
            roles = synthesized.resources[logical_id]["Properties"]["Roles"]
            allowed = set(ACTIONS_ALLOWED_ON_ANY_RESOURCE)
            if roles == [{"Ref": machine_role}]:
                allowed |= STATE_MACHINE_ACTIONS_ON_ANY_RESOURCE
            if roles == [{"Ref": progress_role}]:
                allowed.add("dynamodb:ListStreams")  # what a stream event source mapping needs, on '*'
            assert set(_as_list(statement["Action"])) <= allowed, logical_id


def test_function_roles_use_no_managed_policy_and_write_only_their_own_logs(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    functions = [*stack.route_functions.values(), stack.auth.authorizer_function.function]
    for function in functions:
        properties = synthesized.resources[synthesized.logical_id(function)]["Properties"]
        role = synthesized.resources[synthesized.logical_id(function.role)]["Properties"]
        assert not role.get("ManagedPolicyArns"), function.node.path
        log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        log_statements = [
            s
            for s in _role_statements(synthesized, function)
            if any(a.startswith("logs:") for a in _as_list(s["Action"]))
        ]
        assert log_statements, function.node.path
        for statement in log_statements:
            assert statement["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}, function.node.path


# -- cdk-nag --------------------------------------------------------------------------------------


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    violations = [
        f"{violation['ruleName']} at {[c['constructPath'] for c in violation['violatingConstructs']]}"
        for report in synthesized.validation_report["pluginReports"]
        for violation in report.get("violations", [])
    ]
    assert violations == []
    assert synthesized.synth_error is None, synthesized.synth_error


def test_every_acknowledgement_is_on_one_resource_with_a_reason(synthesized: Synthesized) -> None:
    acknowledged = 0
    for construct in synthesized.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != "aws:cdk:acknowledged-rules":
                continue
            # Never on the app, the stack or a whole construct subtree: on the one resource.
            assert CfnResource.is_cfn_resource(construct), construct.node.path
            for rule, reason in entry.data.items():
                # CDK files a rule id without a namespace under "Annotation::"; cdk-nag reads it so.
                assert rule.removeprefix("Annotation::").startswith("AwsSolutions-"), (
                    construct.node.path,
                    rule,
                )
                assert len(reason) >= MIN_REASON_LENGTH, (construct.node.path, rule)
                acknowledged += 1
    assert acknowledged > 0
    assert "cdk_nag" not in (synthesized.template.to_json().get("Metadata") or {})


# -- cfn-lint -------------------------------------------------------------------------------------


def test_cfn_lint_finds_no_error_and_no_unexplained_warning(synthesized: Synthesized) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
            "--config-file",
            str(REPO_ROOT / ".cfnlintrc.yaml"),
            "--",
            str(synthesized.template_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: clean; 2: errors; 4: warnings; 8: informational. The config ignores W3005, with its reason.
    assert completed.returncode == 0, completed.stdout + completed.stderr
