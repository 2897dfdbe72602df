"""The `lp` command line (typer)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Annotated

import typer

from readmodels.settings import Settings
from tools.stack import ROOT, Stack, default_workdir, wait_applied

app = typer.Typer(add_completion=False, no_args_is_help=True, help="learner-projector: Open edX read models.")


@app.command()
def start(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Load the demo history.")] = True,
    port: Annotated[int, typer.Option(help="API port (0: a free one).")] = 8000,
    cluster: Annotated[bool, typer.Option(
        "--cluster", help="A 3-master Redis Cluster, 2 projector workers and 2 API processes.")] = False,
) -> None:
    """Boot Kafka, Redis, the projector and the API; load a demo history; run until Ctrl-C."""
    import shutil

    from api.auth import make_token
    from tools.demo import DEMO_COURSE, DEMO_USER_ID, DEMO_USERNAME, demo_history
    from tools.procs import ServiceStartError, free_port, port_open
    from tools.produce import produce

    run_dir = default_workdir()
    workdir = run_dir / "stack"
    shutil.rmtree(workdir, ignore_errors=True)
    if port and port_open(port):
        typer.echo(f"port {port} is taken; using a free one", err=True)
        port = 0
    # A registry given in the environment is used as it is; else the local stand-in is started.
    stack = Stack(workdir, registry_url=os.environ.get("LP_SCHEMA_REGISTRY_URL") or None, cluster=cluster)
    interrupted = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background (SIGINT ignored)
    try:
        typer.echo("starting Redis, Kafka and the schema registry stand-in ..." if stack.registry is not None
                   else "starting Redis and Kafka ...")
        stack.start()
        settings = stack.settings()
        stack.create_topics(settings)
        typer.echo("starting the projector and the API ...")
        stack.start_projector(settings, log=run_dir / "projector.log")
        _, api_url = stack.start_api(settings, port=port or free_port(), log=run_dir / "api.log")
        more = ""
        if cluster:  # one more worker in the same consumer group (partitions shared), one more API
            stack.start_projector(settings, log=run_dir / "projector-2.log")
            _, second_api = stack.start_api(settings, port=free_port(), log=run_dir / "api-2.log")
            more = f"   and {second_api} (a second API process)"
        if demo:
            events = demo_history()
            # In Avro, as a real LMS writes through edx-event-bus-kafka (the API's visits stay JSON).
            typer.echo(f"loading the demo history ({len(events)} events, Avro) ...")
            ends = asyncio.run(produce(settings.kafka_bootstrap, events, topic_prefix=settings.full_topic_prefix,
                                       avro=settings))
            asyncio.run(_wait_demo_applied(settings, ends))
        token = make_token(settings, DEMO_USER_ID, DEMO_USERNAME, ttl=7 * 86400)
        env_file = run_dir / "stack.env"
        env_file.write_text(
            f"KAFKA_BOOTSTRAP={settings.kafka_bootstrap}\nREDIS_URL={settings.redis_url}\nAPI_URL={api_url}\n"
            f"TOPIC_PREFIX={settings.full_topic_prefix}\nSCHEMA_REGISTRY_URL={settings.schema_registry_url}\n"
            f"JWT_SECRET={settings.jwt_secret}\n"
            f"JWT_ISSUER={settings.jwt_issuer}\nJWT_AUDIENCE={settings.jwt_audience}\n"
        )
        typer.echo("")
        typer.echo(f"API:        {api_url}   (OpenAPI docs: {api_url}/docs){more}")
        typer.echo(f"Status:     {api_url}/status   (health: /healthz, /readyz; Prometheus: /metrics)")
        typer.echo(f"Kafka:      {settings.kafka_bootstrap}")
        typer.echo(f"Redis:      {settings.redis_url}")
        typer.echo(f"Registry:   {settings.schema_registry_url}"
                   + ("   (local stand-in, see README)" if stack.registry is not None else ""))
        typer.echo(f"Logs:       {run_dir}/projector.log, {run_dir}/api.log, {workdir}/kafka/kafka.log")
        typer.echo(f"Settings:   {env_file}")
        typer.echo("")
        typer.echo(f"Try (demo learner '{DEMO_USERNAME}', user id {DEMO_USER_ID}):")
        typer.echo(f"  curl -s -H 'Authorization: JWT {token}' '{api_url}/api/courseware/course/{DEMO_COURSE}'")
        typer.echo("")
        typer.echo("Press Ctrl-C to stop everything.")
        while True:
            for proc in list(stack.children):
                if proc.poll() is not None:
                    raise ServiceStartError(f"a child process exited with code {proc.returncode}; see the logs above")
            time.sleep(0.5)
    except KeyboardInterrupt:
        typer.echo("\nstopping ...")
    except ServiceStartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        stack.stop()
        typer.echo("stopped.")


async def _wait_demo_applied(settings: Settings, ends: dict[tuple[str, int], int]) -> None:
    from tools.procs import ServiceStartError

    try:
        async with asyncio.timeout(120):
            await wait_applied(settings, ends)
    except TimeoutError:
        raise ServiceStartError("the projector did not apply the demo history within 120s") from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run the whole test suite (unit, integration, end-to-end) against real Kafka and Redis.

    Extra arguments go to pytest; paths among them replace the default `tests`."""
    from tools.kafka_runner import kafka_libs

    kafka_libs()  # fetch the broker jars before pytest starts, so a failure reads clearly
    paths = [a for a in ctx.args if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
    cmd = [sys.executable, "-m", "pytest", *([] if paths else ["tests"]), *ctx.args]
    raise typer.Exit(subprocess.call(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}))


from tools import cmd_bench, cmd_events, cmd_generate, cmd_rebuild  # noqa: E402

for _module in (cmd_events, cmd_generate, cmd_rebuild, cmd_bench):
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
