"""cdk-nag acknowledgements, always on one resource and always with the reason next to the rule."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a finding (`AwsSolutions-IAM5[Resource::*]` style) on the construct's own resource.

    An L2 construct is narrowed to its CloudFormation resource, so the acknowledgement never spreads
    to other resources created under it (permissions, policies, children).
    """
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"give {rule} a real reason, not {reason!r}")
    target = construct.node.default_child or construct
    Validations.of(target).acknowledge(Acknowledgment(id=rule, reason=reason))


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag renders it in a finding id (`Resource::<this>`).

    Port of cdk-nag's flattenCfnReference: Fn::Join joins, Ref -> <Name>, Fn::GetAtt -> <Name.Attr>.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return str(delimiter).join(flatten_reference(item) for item in items)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return flatten_reference(value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return flatten_reference(value["Fn::ImportValue"])
    if isinstance(value, dict) and "Ref" in value:
        return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))
