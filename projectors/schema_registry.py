"""Client of a Confluent-compatible schema registry: writer schemas by id, cached for the life of
the process (ids never change meaning), and registration for our producing tools.

Failure rules (EVENTS.md "Wire formats"):
- the registry unreachable, timing out, or answering 5xx (or anything but 200/404, such as 401
  after a credential rotation) is transient: `RegistryUnavailable`, a ConnectionError, which the
  pipeline retries (`projectors.retry.retry_forever`) with backoff, the batch not acked meanwhile;
- 404 for an id is permanent: the id is cached as `UnusableSchema` and every message naming it
  is dead-lettered with the reason; so is a schema that is not Avro or does not parse.

httpx (already a dependency) does the HTTP; confluent-kafka's client would bring librdkafka and
a synchronous API into the projector for three GETs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx
import orjson

from events.avro import UnusableSchema, WriterSchema, parse_writer_schema
from readmodels.settings import Settings

log = logging.getLogger(__name__)
ACCEPT = "application/vnd.schemaregistry.v1+json, application/json"


class RegistryUnavailable(ConnectionError):
    """The registry cannot answer now; retrying later may succeed."""


class SchemaRegistry:
    def __init__(self, url: str, *, username: str = "", password: str = "", timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        auth = httpx.BasicAuth(username, password) if username or password else None
        self._http = httpx.AsyncClient(base_url=self.url, auth=auth, timeout=timeout, headers={"Accept": ACCEPT},
                                       transport=transport)
        self.schemas: dict[int, WriterSchema] = {}  # the cache the codec reads (events.avro.WriterSchemas)
        self._ids: dict[tuple[str, str], int] = {}  # (subject, schema text) -> id, for registering

    async def aclose(self) -> None:
        await self._http.aclose()

    def missing(self, ids: Iterable[int]) -> set[int]:
        return {i for i in ids if i not in self.schemas}

    async def resolve(self, ids: Iterable[int]) -> None:
        """Fetch every id of `ids` not cached yet (RegistryUnavailable when the registry cannot answer)."""
        for sid in sorted(self.missing(ids)):
            self.schemas[sid] = await self._fetch(sid)

    async def _fetch(self, sid: int) -> WriterSchema:
        response = await self._request("GET", f"/schemas/ids/{sid}")
        if response.status_code == 404:
            log.warning("schema registry %s has no schema id %d: its messages are dead-lettered", self.url, sid)
            return UnusableSchema(f"unknown schema id {sid} (the schema registry answered 404)")
        try:
            body = orjson.loads(response.content)
            text, kind = body["schema"], body.get("schemaType")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise RegistryUnavailable(f"schema registry {self.url}: unreadable answer for id {sid}") from None
        return parse_writer_schema(sid, text, kind)

    async def register(self, subject: str, schema: str) -> int:
        """The id of `schema` under `subject`, registering it if new (as confluent-kafka's producer does)."""
        known = self._ids.get((subject, schema))
        if known is not None:
            return known
        body = orjson.dumps({"schema": schema})
        response = await self._request("POST", f"/subjects/{subject}/versions", content=body)
        if response.status_code != 200:
            raise RegistryUnavailable(f"schema registry {self.url}: registering under {subject} answered "
                                      f"{response.status_code} {response.text[:200]}")
        sid = int(orjson.loads(response.content)["id"])
        self._ids[(subject, schema)] = sid
        if sid not in self.schemas:
            self.schemas[sid] = parse_writer_schema(sid, schema)
        return sid

    async def _request(self, method: str, path: str, content: bytes | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"} if content is not None else None
        try:
            response = await self._http.request(method, path, content=content, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, timed out, DNS
            raise RegistryUnavailable(f"schema registry {self.url} unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code not in (200, 404):
            raise RegistryUnavailable(f"schema registry {self.url} answered {response.status_code} to {method} {path}: "
                                      f"{response.text[:200]}")
        return response


def registry_for(settings: Settings) -> SchemaRegistry | None:
    """The client for `LP_SCHEMA_REGISTRY_URL` (with its credentials); None when none is configured."""
    if not settings.schema_registry_url:
        return None
    return SchemaRegistry(settings.schema_registry_url, username=settings.schema_registry_api_key,
                          password=settings.schema_registry_api_secret)
