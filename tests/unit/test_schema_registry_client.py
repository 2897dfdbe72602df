"""The registry client's failure rules without services (httpx's MockTransport answers): 404 is
permanent (cached, its messages dead-lettered), anything else is transient (RegistryUnavailable,
retried by the pipeline, nothing dead-lettered); and the projector's batch waits for it.
The same against the real stand-in server: tests/integration/test_avro_input.py."""

from __future__ import annotations

import asyncio
import base64

import httpx
import orjson
import pytest

from events.avro import UnusableSchema
from projectors.pipeline import Projector, RawMessage
from projectors.schema_registry import RegistryUnavailable, SchemaRegistry
from tests.unit.test_avro_codec import GOLDEN, HEADERS, SID, VALUE
from tests.unit.test_dead_letter_handling import RecordingSink, RecordingWriter


def registry(handler: httpx.MockTransport) -> SchemaRegistry:
    return SchemaRegistry("http://registry.test", username="key", password="secret", transport=handler)


def golden_answers(seen: list[httpx.Request], *, fail_first: int = 0, status: int = 503) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= fail_first:
            return httpx.Response(status, json={"error_code": 50001, "message": "down"})
        sid = request.url.path.rsplit("/", 1)[-1]
        if sid not in GOLDEN["schemas"]:
            return httpx.Response(404, json={"error_code": 40403, "message": "Schema not found"})
        return httpx.Response(200, json={"schema": GOLDEN["schemas"][sid]})

    return httpx.MockTransport(answer)


async def test_resolve_fetches_each_id_once_with_basic_auth() -> None:
    seen: list[httpx.Request] = []
    client = registry(golden_answers(seen))

    await client.resolve([SID, SID])
    await client.resolve([SID])

    assert [r.url.path for r in seen] == [f"/schemas/ids/{SID}"]
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"key:secret").decode()
    assert not isinstance(client.schemas[SID], UnusableSchema)


async def test_resolve_unknown_id_is_cached_as_unusable_with_the_reason() -> None:
    seen: list[httpx.Request] = []
    client = registry(golden_answers(seen))

    await client.resolve([999])
    await client.resolve([999])

    assert client.schemas[999] == UnusableSchema("unknown schema id 999 (the schema registry answered 404)")
    assert len(seen) == 1


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_resolve_other_answers_are_transient(status: int) -> None:
    client = registry(golden_answers([], fail_first=1, status=status))

    with pytest.raises(RegistryUnavailable, match=f"answered {status}"):
        await client.resolve([SID])

    assert SID not in client.schemas
    await client.resolve([SID])  # the next try succeeds
    assert SID in client.schemas


async def test_resolve_unreachable_registry_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RegistryUnavailable, match="unreachable: ConnectError"):
        await registry(httpx.MockTransport(refuse)).resolve([SID])


async def test_handle_waits_for_the_registry_then_applies_without_dead_letters() -> None:
    seen: list[httpx.Request] = []
    sink, writer = RecordingSink(), RecordingWriter()
    projector = Projector(writer, sink, generation=1, registry=registry(golden_answers(seen, fail_first=3)))  # type: ignore[arg-type]
    batch = [RawMessage("dev-learning-course-enrollment-lifecycle", 0, 5, None, VALUE, tuple(HEADERS))]

    result = await asyncio.wait_for(projector.handle(batch), timeout=10)

    assert len(seen) == 4 and sink.sent == []
    assert [p.event.type for p in result.projected] == [dict(HEADERS)["ce_type"].decode()]
    assert writer.calls and writer.calls[0][2][0].offset == 6  # checkpoint: next offset


async def test_handle_dead_letters_messages_of_an_unknown_id_and_applies_the_rest() -> None:
    unknown = VALUE[:1] + (999).to_bytes(4, "big") + VALUE[5:]
    sink, writer = RecordingSink(), RecordingWriter()
    projector = Projector(writer, sink, generation=1, registry=registry(golden_answers([])))  # type: ignore[arg-type]
    batch = [RawMessage("t", 0, 1, None, unknown, tuple(HEADERS)), RawMessage("t", 0, 2, None, VALUE, tuple(HEADERS))]

    result = await projector.handle(batch)

    assert [d.message.offset for d in sink.sent] == [1]
    assert dict(sink.sent[0].headers)["dlq_reason"] == b"unknown schema id 999 (the schema registry answered 404)"
    assert [p.message.offset for p in result.projected] == [2]


async def test_handle_without_registry_dead_letters_avro_with_the_reason() -> None:
    sink, writer = RecordingSink(), RecordingWriter()
    projector = Projector(writer, sink, generation=1)  # type: ignore[arg-type]

    await projector.handle([RawMessage("t", 0, 1, None, VALUE, tuple(HEADERS))])

    reason = dict(sink.sent[0].headers)["dlq_reason"].decode()
    assert reason == f"Avro value (schema id {SID}) but no schema registry is configured (LP_SCHEMA_REGISTRY_URL)"


async def test_register_returns_the_id_and_caches_it() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"id": 12})

    client = registry(httpx.MockTransport(answer))
    text = GOLDEN["schemas"][str(SID)]

    assert await client.register("dev-x-org.openedx.CloudEvent", text) == 12
    assert await client.register("dev-x-org.openedx.CloudEvent", text) == 12
    assert len(calls) == 1 and calls[0].url.path == "/subjects/dev-x-org.openedx.CloudEvent/versions"
    assert orjson.loads(calls[0].content) == {"schema": text} and 12 in client.schemas
