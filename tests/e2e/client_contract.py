"""Compares the client's route table and models with an OpenAPI document (the one the API serves).

A model matches a schema when they have the same properties, the same required ones, and each
property admits the same kinds of value (null, string, integer, enum values, arrays of what,
which nested schema); nested models are compared with their schemas in turn.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import datetime
from typing import Any

from execution_monitor_client.models import Model, declared_json_fields
from execution_monitor_client.routes import Route

REF = "#/components/schemas/"


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    }


def _schema_kinds(schema: dict[str, Any]) -> set[str]:
    kinds: set[str] = set()
    for variant in schema.get("anyOf", schema.get("oneOf", [schema])):
        if "$ref" in variant:
            kinds.add(f"ref:{variant['$ref'].removeprefix(REF)}")
        elif "enum" in variant:
            kinds.add(f"enum:{sorted(variant['enum'])}")
        elif variant.get("type") == "array":
            kinds |= {f"array<{kind}>" for kind in _schema_kinds(variant.get("items", {}))}
        else:
            kinds.add(variant.get("type", "any"))
    return kinds


_SCALARS = {
    str: "string",
    datetime: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    dict: "object",
}


def _hint_kinds(hint: Any) -> set[str]:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return set().union(*(_hint_kinds(arg) for arg in typing.get_args(hint)))
    if origin is typing.Literal:
        return {f"enum:{sorted(typing.get_args(hint))}"}
    if origin is list:
        return {f"array<{kind}>" for kind in _hint_kinds(typing.get_args(hint)[0])}
    if hint is type(None):
        return {"null"}
    if hint is Any:
        return {"any"}
    if isinstance(hint, type) and issubclass(hint, Model):
        return {f"ref:{hint.__name__}"}
    return {_SCALARS[origin or hint]}


def _nested_models(hint: Any) -> list[type[Model]]:
    if isinstance(hint, type) and issubclass(hint, Model):
        return [hint]
    return [model for arg in typing.get_args(hint) for model in _nested_models(arg)]


def model_drift(model: type[Model], document: dict[str, Any], schema_name: str | None = None) -> list[str]:
    """Every difference between a model (and the models it nests) and its schema; [] when none."""
    name = schema_name or model.__name__
    schema = document["components"]["schemas"].get(name)
    if schema is None:
        return [f"{name}: no such schema in the document"]
    declared = declared_json_fields(model)
    properties = schema.get("properties", {})
    drift = [
        f"{name}.{key}: in the document, not in the client" for key in sorted(set(properties) - set(declared))
    ]
    drift += [
        f"{name}.{key}: in the client, not in the document" for key in sorted(set(declared) - set(properties))
    ]
    required = set(schema.get("required", []))
    for key in sorted(set(declared) & set(properties)):
        hint, is_required = declared[key]
        if is_required != (key in required):
            drift.append(
                f"{name}.{key}: required is {key in required} in the document, {is_required} in the client"
            )
        theirs, ours = sorted(_schema_kinds(properties[key])), sorted(_hint_kinds(hint))
        if theirs != ours:
            drift.append(f"{name}.{key}: {theirs} != client {ours}")
        for nested in _nested_models(hint):
            drift += model_drift(nested, document)
    return drift


def _ref_name(schema: dict[str, Any]) -> str | None:
    refs = [variant["$ref"] for variant in schema.get("anyOf", [schema]) if "$ref" in variant]
    return refs[0].removeprefix(REF) if refs else None


def route_drift(route: Route, operation: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """Every difference between a client route and the document's operation; [] when none."""
    where = f"{route.method} {route.path}"
    parameters = operation.get("parameters", [])
    drift = []
    for place, ours in (("path", set(re.findall(r"{(\w+)}", route.path))), ("query", set(route.query))):
        theirs = {parameter["name"] for parameter in parameters if parameter["in"] == place}
        if theirs != ours:
            drift.append(f"{where}: {place} parameters {sorted(theirs)} != client {sorted(ours)}")
    headers = {parameter["name"].lower() for parameter in parameters if parameter["in"] == "header"}
    if headers != set(route.headers):
        drift.append(f"{where}: headers {sorted(headers)} != client {sorted(route.headers)}")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if _ref_name(body) != route.body:
        drift.append(f"{where}: request body {_ref_name(body)} != client {route.body}")
    success = operation["responses"].get(str(route.success))
    if success is None:
        return [*drift, f"{where}: no {route.success} response (has {sorted(operation['responses'])})"]
    # The stream route answers text/event-stream: no JSON envelope to compare.
    envelope = _ref_name(success.get("content", {}).get("application/json", {}).get("schema", {}))
    if route.model is None or route.result is None or envelope is None:
        return drift
    result = document["components"]["schemas"][envelope]["properties"].get(route.result)
    if result is None:
        return [*drift, f"{where}: the {envelope} answer has no '{route.result}'"]
    item = result.get("items", result) if route.listed else result
    return drift + model_drift(route.model, document, _ref_name(item))
