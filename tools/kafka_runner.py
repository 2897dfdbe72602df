"""A single-node KRaft Apache Kafka broker for development and tests.

The broker jars come from Maven Central through `mvn` (see kafka-pom.xml) and are copied once
into a cache folder outside git; later runs reuse them.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tools.procs import ServiceStartError, free_port, last_line, port_open, spawn, stop_process, wait_until

KAFKA_VERSION = "3.9.1"
POM = Path(__file__).with_name("kafka-pom.xml")
CACHE = Path(os.environ.get("LP_CACHE_DIR", Path.home() / ".cache" / "learner-projector"))

LOG4J = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
"""


def kafka_libs() -> Path:
    """Return the folder of broker jars, fetching them with Maven on first use."""
    libs = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("java") is None or shutil.which("mvn") is None:
        raise ServiceStartError("java and mvn are needed to run Kafka: apt-get install -y default-jdk-headless maven")
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="kafka-libs-", dir=CACHE))
    cmd = [
        "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}", "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise ServiceStartError(f"fetching Kafka {KAFKA_VERSION} with mvn failed: {tail[0]}")
    (staging / ".complete").write_text(KAFKA_VERSION)
    libs.parent.mkdir(parents=True, exist_ok=True)
    if libs.exists():
        shutil.rmtree(libs)
    staging.rename(libs)
    return libs


@dataclass
class KafkaBroker:
    """One broker+controller process on free loopback ports, its data in `workdir`."""

    workdir: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    heap: str = "512m"
    # How long the broker holds a new consumer group's first assignment for more members. Kafka's
    # default is 3000 ms; tests and the local stack start groups all the time and use 0 (the first
    # member starts at once). The bench uses Kafka's default: workers started together then get one
    # assignment, instead of the first taking every partition and a rebalance mid-run.
    initial_rebalance_delay_ms: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "kafka.log"

    def _config(self) -> Path:
        data = self.workdir / "data"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": str(self.initial_rebalance_delay_ms),
            "log.retention.ms": "-1",
            "log.segment.bytes": str(256 * 1024 * 1024),
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        path = self.workdir / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.workdir / "log4j.properties").write_text(LOG4J)
        return path

    def start(self, timeout: float = 60.0) -> KafkaBroker:
        libs = kafka_libs()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self._config()
        java = ["java", f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
                f"-Dlog4j.configuration=file:{self.workdir / 'log4j.properties'}", "-cp", f"{libs}/*"]
        if not (self.workdir / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            fmt = subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                 "--config", str(config), "--ignore-formatted"],
                capture_output=True, text=True, check=False,
            )
            if fmt.returncode != 0:
                self.log.write_text(fmt.stdout + fmt.stderr)
                raise ServiceStartError(f"formatting Kafka storage failed: {last_line(self.log)} (log: {self.log})")
        self.proc = spawn([*java, "kafka.Kafka", str(config)], self.log)
        wait_until(lambda: port_open(self.port) and self._metadata_ready(), proc=self.proc, timeout=timeout,
                   what="Kafka", log=self.log)
        return self

    def _metadata_ready(self) -> bool:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "Kafka Server started" in text or "KafkaRaftServer started" in text or "started (kafka.server" in text

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
        self.proc = None

    def restart(self, timeout: float = 60.0) -> KafkaBroker:
        """Stop (controlled shutdown) and start again on the same ports and data. The old log is set
        aside so that readiness is read from the new process's own lines."""
        self.stop()
        if self.log.exists():
            self.log.replace(self.log.with_name("kafka.log.previous"))
        return self.start(timeout)
