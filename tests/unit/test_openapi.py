"""The served OpenAPI document is generated from the handlers' own routes and models."""

import json

from infrastructure.openapi import DOCUMENT_PATH, build_document
from infrastructure.routes import ROUTES


def test_the_committed_document_matches_the_code_so_run_make_openapi_after_changing_models() -> None:
    assert DOCUMENT_PATH.read_text() == build_document()


def test_every_non_streaming_authorized_route_is_documented_with_bearer_auth() -> None:
    document = json.loads(build_document())
    for route in ROUTES:
        if route.streaming or not route.authorized:
            continue
        assert route.method.lower() in document["paths"][route.path], route
    assert document["security"] == [{"bearerAuth": []}]


def test_the_stream_route_documents_each_event_as_an_object_of_text_fields() -> None:
    from infrastructure.openapi import SSE_EVENT

    assert SSE_EVENT["type"] == "object"
    assert set(SSE_EVENT["properties"]) == {"id", "event", "data", "retry"}
    assert SSE_EVENT["properties"]["event"]["enum"] == ["snapshot", "update", "end"]


def test_send_message_params_document_that_exactly_one_target_is_required() -> None:
    from execution_monitor.actions.definitions import SendMessageParams

    one_of = SendMessageParams.model_json_schema(by_alias=True)["oneOf"]

    assert [branch["required"] for branch in one_of] == [["queueUrl"], ["topicArn"]]
