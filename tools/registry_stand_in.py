"""A local stand-in for a Confluent schema registry, for the tests and `lp start` only.

No Confluent-compatible registry server can be installed from the package registries these
machines reach (Confluent's is a Docker image or a tarball, Apicurio's Maven jars are not
runnable, Karapace is not on PyPI), so this small server implements exactly the REST subset that
confluent-kafka's producer and consumer use (contract reference: real-event-bus.md):

    POST /subjects/{subject}/versions   register a schema (same schema -> same id), -> {"id"}
    POST /subjects/{subject}            look a schema up under a subject -> {"subject","id","version","schema"}
    GET  /schemas/ids/{id}              -> {"schema"}
    GET  /subjects                      -> [subject, ...]
    GET  /subjects/{subject}/versions   -> [1, 2, ...]
    anything else (e.g. GET /associations/...)  -> 404 with a Confluent error body

Avro only, no compatibility checks, no deletes, no auth. State is a JSON file, rewritten
atomically on every registration, so a restarted stand-in keeps its ids. Production uses a real
registry (docker-compose.yml runs Confluent's); the product only needs its URL.
Served by Starlette under uvicorn (both already dependencies of the API).

    python -m tools.registry_stand_in --port 8081 --data .run/registry.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import fastavro
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.procs import free_port, spawn, stop_process, wait_until

MEDIA = "application/vnd.schemaregistry.v1+json"


class Store:
    """Schemas by id (1-based, global across subjects) and the ids registered under each subject."""

    def __init__(self, path: Path) -> None:
        self.path = path
        state = json.loads(path.read_text()) if path.exists() else {}
        self.schemas: list[str] = state.get("schemas", [])
        self.subjects: dict[str, list[int]] = state.get("subjects", {})
        self._lock = asyncio.Lock()

    @staticmethod
    def canonical(text: str) -> str:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))

    def find(self, text: str) -> int | None:
        canonical = self.canonical(text)
        return next((i + 1 for i, s in enumerate(self.schemas) if self.canonical(s) == canonical), None)

    async def register(self, subject: str, text: str) -> int:
        async with self._lock:
            sid = self.find(text)
            if sid is None:
                self.schemas.append(text)
                sid = len(self.schemas)
            versions = self.subjects.setdefault(subject, [])
            if sid not in versions:
                versions.append(sid)
                self._save()
            return sid

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"schemas": self.schemas, "subjects": self.subjects}))
        os.replace(tmp, self.path)


def _answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA)


def _error(status: int, code: int, message: str) -> JSONResponse:
    return _answer({"error_code": code, "message": message}, status)


async def _schema_of(request: Request) -> str | JSONResponse:
    try:
        body = json.loads(await request.body())
        text = body["schema"]
        if body.get("schemaType", "AVRO") != "AVRO":
            return _error(422, 42201, "this stand-in registry holds Avro schemas only")
        fastavro.parse_schema(json.loads(text))
    except (ValueError, KeyError, TypeError, fastavro.schema.SchemaParseException) as exc:
        return _error(422, 42201, f"Invalid schema: {exc}")
    return str(text)


def create_app(data: Path) -> Starlette:
    store = Store(data)

    async def register(request: Request) -> Response:
        text = await _schema_of(request)
        if isinstance(text, Response):
            return text
        return _answer({"id": await store.register(request.path_params["subject"], text)})

    async def lookup(request: Request) -> Response:
        subject = request.path_params["subject"]
        text = await _schema_of(request)
        if isinstance(text, Response):
            return text
        if subject not in store.subjects:
            return _error(404, 40401, f"Subject '{subject}' not found.")
        sid = store.find(text)
        if sid is None or sid not in store.subjects[subject]:
            return _error(404, 40403, "Schema not found")
        version = store.subjects[subject].index(sid) + 1
        return _answer({"subject": subject, "id": sid, "version": version, "schema": store.schemas[sid - 1]})

    async def by_id(request: Request) -> Response:
        sid = request.path_params["id"]
        if not 1 <= sid <= len(store.schemas):
            return _error(404, 40403, f"Schema {sid} not found")
        return _answer({"schema": store.schemas[sid - 1]})

    async def subjects(request: Request) -> Response:
        return _answer(sorted(store.subjects))

    async def versions(request: Request) -> Response:
        subject = request.path_params["subject"]
        if subject not in store.subjects:
            return _error(404, 40401, f"Subject '{subject}' not found.")
        return _answer(list(range(1, len(store.subjects[subject]) + 1)))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, 404, f"{request.method} {request.url.path}: not served by this stand-in registry")

    routes = [
        Route("/subjects/{subject}/versions", register, methods=["POST"]),
        Route("/subjects/{subject}/versions", versions, methods=["GET"]),
        Route("/subjects/{subject}", lookup, methods=["POST"]),
        Route("/subjects", subjects, methods=["GET"]),
        Route("/schemas/ids/{id:int}", by_id, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


class RegistryStandIn:
    """Runs the stand-in as a child process (like tools/redis_runner.py runs redis-server)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.workdir / "schemas.json"

    def start(self) -> RegistryStandIn:
        """Start (again, on the same port and data after `stop`)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log = self.workdir / "registry.log"
        cmd = [sys.executable, "-m", "tools.registry_stand_in", "--port", str(self.port), "--data", str(self.data)]
        self.proc = spawn(cmd, log, cwd=Path(__file__).resolve().parent.parent)
        wait_until(self._ready, proc=self.proc, timeout=30, what="schema registry stand-in", log=log)
        return self

    def _ready(self) -> bool:
        try:
            return httpx.get(self.url + "/subjects", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Local stand-in for a Confluent schema registry (tests, lp start).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--data", type=Path, required=True, help="JSON file holding the schemas")
    args = parser.parse_args()
    uvicorn.run(create_app(args.data), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
