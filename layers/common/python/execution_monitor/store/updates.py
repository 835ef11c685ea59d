"""A tiny builder for conditional UpdateItem / TransactWriteItems requests (keeps expressions readable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from execution_monitor.store.codec import to_attr


@dataclass
class Update:
    key: dict[str, str]
    sets: dict[str, Any] = field(default_factory=dict)
    removes: tuple[str, ...] = ()
    condition: str | None = None
    condition_values: dict[str, Any] = field(default_factory=dict)
    bump_version: bool = False

    def request(self, table: str) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses = []
        for position, (name, value) in enumerate(self.sets.items()):
            names[f"#s{position}"] = name
            values[f":s{position}"] = to_attr(value)
            clauses.append(f"#s{position} = :s{position}")
        if self.bump_version:
            names["#version"] = "version"
            values[":one"] = to_attr(1)
            clauses.append("#version = #version + :one")
        expression = "SET " + ", ".join(clauses)
        if self.removes:
            for position, name in enumerate(self.removes):
                names[f"#r{position}"] = name
            expression += " REMOVE " + ", ".join(f"#r{position}" for position in range(len(self.removes)))
        request: dict[str, Any] = {
            "TableName": table,
            "Key": {name: to_attr(value) for name, value in self.key.items()},
            "UpdateExpression": expression,
        }
        if self.condition:
            request["ConditionExpression"] = self.condition
            for token in ("#status", "#run", "#version", "#attempt", "#retriedBy", "#pk"):
                if token in self.condition:
                    names[token] = {"#run": "currentRunId"}.get(token, token[1:])
            values.update({name: to_attr(value) for name, value in self.condition_values.items()})
        request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = values
        return request
