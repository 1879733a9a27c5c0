"""Create every platform topic (contracts.topics.all_with_dead_letters) in the local Kafka, idempotently.

Run by deploy/stack.sh as `.venv/bin/python deploy/provision_topics.py` with PYTHONPATH=<repo root>.
The broker runs with auto.create.topics.enable=false, so this is the only place topics come from.

    --check   only verify that the broker answers a metadata request (used as the health check)
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from contracts.topics import COMPACTED, all_with_dead_letters

PARTITIONS = 3
REPLICATION_FACTOR = 1
TOPIC_ALREADY_EXISTS = 36
# Right after start a KRaft broker can answer metadata before the controller accepts CreateTopics.
ATTEMPTS = 10


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    return admin


async def check(bootstrap: str) -> int:
    admin = await _admin(bootstrap)
    try:
        await admin.list_topics()
    finally:
        await admin.close()
    return 0


async def provision(bootstrap: str) -> int:
    wanted = list(all_with_dead_letters())
    admin = await _admin(bootstrap)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if not missing:
                print(f"topics: all {len(wanted)} present")
                return 0
            try:
                response = await admin.create_topics(
                    [NewTopic(t, PARTITIONS, REPLICATION_FACTOR,
                               topic_configs={"cleanup.policy": "compact"} if t in COMPACTED else {})
                     for t in missing]
                )
            except KafkaError as exc:
                print(f"topics: create attempt {attempt} failed: {exc!r}", file=sys.stderr)
                await asyncio.sleep(1)
                continue
            errors = [
                (name, code, msg)
                for name, code, *rest in response.topic_errors
                for msg in [rest[0] if rest else ""]
                if code not in (0, TOPIC_ALREADY_EXISTS)
            ]
            if not errors:
                print(f"topics: created {len(missing)}: {', '.join(missing)}")
                continue  # loop once more to confirm via metadata
            print(f"topics: attempt {attempt} errors: {errors}", file=sys.stderr)
            await asyncio.sleep(1)
        print("topics: giving up, some topics are still missing", file=sys.stderr)
        return 1
    finally:
        await admin.close()


def main(argv: list[str]) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        print("KAFKA_BOOTSTRAP_SERVERS is not set (source deploy/env/<stack>.env)", file=sys.stderr)
        return 2
    try:
        return asyncio.run(check(bootstrap) if "--check" in argv else provision(bootstrap))
    except KafkaError as exc:
        print(f"kafka at {bootstrap} not reachable: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
