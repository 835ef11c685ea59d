"""A small builder for DynamoDB expressions: every attribute name and value is aliased, whatever it
is (reserved words included), so callers write plain attribute names and never `#tokens`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer

_SERIALIZER = TypeSerializer()


def to_attr(value: Any) -> dict[str, Any]:
    return _SERIALIZER.serialize(value)


def key_attrs(key: Mapping[str, Any]) -> dict[str, Any]:
    """A key (plain values) as the low-level client takes it."""
    return {name: to_attr(value) for name, value in key.items()}


class Aliases:
    """Placeholders for one request: `#n<i>` per attribute name, `:v<i>` per value."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute; `a.b` (a map's member) becomes `#n0.#n1`."""
        return ".".join(self._one(part) for part in attribute.split("."))

    def _one(self, attribute: str) -> str:
        token = next((alias for alias, known in self.names.items() if known == attribute), None)
        if token is None:
            token = f"#n{len(self.names)}"
            self.names[token] = attribute
        return token

    def value(self, value: Any) -> str:
        token = f":v{len(self.values)}"
        self.values[token] = to_attr(value)
        return token

    def into(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


# -- conditions ----------------------------------------------------------------------------------


class Condition:
    def render(self, aliases: Aliases) -> str:
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))


@dataclass(frozen=True)
class Equals(Condition):
    attribute: str
    value: Any

    def render(self, aliases: Aliases) -> str:
        return f"{aliases.name(self.attribute)} = {aliases.value(self.value)}"


@dataclass(frozen=True)
class OneOf(Condition):
    attribute: str
    values: tuple[Any, ...]

    def render(self, aliases: Aliases) -> str:
        options = ", ".join(aliases.value(value) for value in self.values)
        return f"{aliases.name(self.attribute)} IN ({options})"


@dataclass(frozen=True)
class Missing(Condition):
    attribute: str

    def render(self, aliases: Aliases) -> str:
        return f"attribute_not_exists({aliases.name(self.attribute)})"


@dataclass(frozen=True)
class Present(Condition):
    attribute: str

    def render(self, aliases: Aliases) -> str:
        return f"attribute_exists({aliases.name(self.attribute)})"


@dataclass(frozen=True)
class Below(Condition):
    attribute: str
    value: Any

    def render(self, aliases: Aliases) -> str:
        return f"{aliases.name(self.attribute)} < {aliases.value(self.value)}"


@dataclass(frozen=True)
class Either(Condition):
    options: tuple[Condition, ...]

    def render(self, aliases: Aliases) -> str:
        return " OR ".join(f"({option.render(aliases)})" for option in self.options)


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def render(self, aliases: Aliases) -> str:
        return " AND ".join(f"({part.render(aliases)})" for part in self.parts)


# -- writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IfMissing:
    """SET value: the attribute's current value if it has one, else this."""

    value: Any


@dataclass(frozen=True)
class Increment:
    """SET value: the current value (0 when missing) plus `amount`, computed by DynamoDB."""

    amount: int = 1


@dataclass(frozen=True)
class Append:
    """SET value: the current list (empty when missing) with `values` appended."""

    values: tuple[Any, ...]


def _assignment(aliases: Aliases, name: str, value: Any) -> str:
    alias = aliases.name(name)
    if isinstance(value, Append):
        current = f"if_not_exists({alias}, {aliases.value([])})"
        return f"{alias} = list_append({current}, {aliases.value(list(value.values))})"
    if isinstance(value, IfMissing):
        return f"{alias} = if_not_exists({alias}, {aliases.value(value.value)})"
    if isinstance(value, Increment):
        return f"{alias} = if_not_exists({alias}, {aliases.value(0)}) + {aliases.value(value.amount)}"
    return f"{alias} = {aliases.value(value)}"


@dataclass(frozen=True)
class Update:
    """SET the given attributes (None means REMOVE), under an optional condition."""

    key: Mapping[str, Any]
    changes: Mapping[str, Any] = field(default_factory=dict)
    condition: Condition | None = None

    def request(self, table: str) -> dict[str, Any]:
        aliases = Aliases()
        sets = [
            _assignment(aliases, name, value) for name, value in self.changes.items() if value is not None
        ]
        removes = [aliases.name(name) for name, value in self.changes.items() if value is None]
        clauses = []
        if sets:
            clauses.append("SET " + ", ".join(sets))
        if removes:
            clauses.append("REMOVE " + ", ".join(removes))
        request: dict[str, Any] = {"TableName": table, "Key": key_attrs(self.key)}
        if clauses:
            request["UpdateExpression"] = " ".join(clauses)
        if self.condition is not None:
            request["ConditionExpression"] = self.condition.render(aliases)
        return aliases.into(request)

    @property
    def transact_kind(self) -> str:
        # Nothing to change (a step already as the transition wants it): only its condition counts.
        # DynamoDB refuses an empty UpdateExpression.
        return "Update" if self.changes else "ConditionCheck"


@dataclass(frozen=True)
class Put:
    """A whole item (None values are left out), under an optional condition."""

    item: Mapping[str, Any]
    condition: Condition | None = None

    @property
    def key(self) -> dict[str, Any]:
        return {"pk": self.item["pk"], "sk": self.item["sk"]}

    def request(self, table: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table,
            "Item": {name: to_attr(value) for name, value in self.item.items() if value is not None},
        }
        if self.condition is not None:
            aliases = Aliases()
            request["ConditionExpression"] = self.condition.render(aliases)
            aliases.into(request)
        return request

    @property
    def transact_kind(self) -> str:
        return "Put"


Write = Update | Put
