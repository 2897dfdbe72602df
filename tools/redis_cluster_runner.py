"""A private Redis Cluster: three `redis-server` masters in cluster mode on free loopback ports,
joined with `redis-cli --cluster create` (no replicas: the tests and the local stack need the
slot layout, not failover).

Each master is a tools/redis_runner.RedisServer with cluster mode switched on, so the listpack
settings and the append-only file are the single Redis's.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.procs import ServiceStartError, free_port
from tools.redis_runner import LISTPACK_CONFIG, RedisServer, ensure_redis_server

MASTERS = 3


@dataclass
class RedisCluster:
    workdir: Path
    masters: int = MASTERS
    servers: list[RedisServer] = field(init=False)

    def __post_init__(self) -> None:
        self.servers = [
            RedisServer(self.workdir / f"node{i}", config=(
                *LISTPACK_CONFIG, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000",
                # the bus port is the client port + 10000 unless set: a free port of its own
                "--cluster-port", str(free_port()),
            ))
            for i in range(self.masters)
        ]

    @property
    def url(self) -> str:
        """The `LP_REDIS_URL` of the cluster (readmodels/redis_client.py)."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{s.port}" for s in self.servers)

    def start(self, timeout: float = 30.0) -> RedisCluster:
        ensure_redis_server()
        cli = shutil.which("redis-cli")
        if cli is None:
            raise ServiceStartError("redis-cli is missing (it comes with the redis-server package: redis-tools)")
        try:
            for server in self.servers:
                server.start()
            addresses = [f"127.0.0.1:{s.port}" for s in self.servers]
            result = subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, text=True, timeout=timeout, check=False,
            )
            if result.returncode != 0:
                raise ServiceStartError(
                    f"redis-cli --cluster create failed: {result.stdout[-500:]}{result.stderr[-500:]}")
            self._wait_ok(cli, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ok(self, cli: str, timeout: float) -> None:
        """Until every master reports `cluster_state:ok` (the slot map has reached every node)."""
        deadline = time.monotonic() + timeout
        while True:
            states = [
                subprocess.run([cli, "-p", str(s.port), "cluster", "info"], capture_output=True, text=True,
                               timeout=5, check=False).stdout
                for s in self.servers
            ]
            if all("cluster_state:ok" in state for state in states):
                return
            if time.monotonic() > deadline:
                raise ServiceStartError(f"Redis Cluster not ok after {timeout:.0f}s")
            time.sleep(0.2)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
