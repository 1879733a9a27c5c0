"""A partition counts as stalled only while records wait and its committed offset does not move."""

from types import SimpleNamespace

from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry

from chassis.progress import ConsumerProgress, PartitionProgress


def test_a_partition_that_is_caught_up_is_never_stalled():
    progress = PartitionProgress(advanced_at=0)
    for second in range(100):
        progress.observe(committed=7, end=7, now=second)
    assert progress.lag == 0
    assert progress.stalled_seconds(now=100) == 0


def test_waiting_records_behind_an_offset_that_does_not_move_count_as_stalled_time():
    progress = PartitionProgress(advanced_at=0)
    progress.observe(committed=3, end=3, now=0)
    progress.observe(committed=3, end=5, now=10)   # two records arrive; nothing committed since
    progress.observe(committed=3, end=6, now=70)
    assert progress.lag == 3
    assert progress.stalled_seconds(now=70) == 70


def test_any_commit_restarts_the_clock():
    progress = PartitionProgress(advanced_at=0)
    progress.observe(committed=3, end=9, now=0)
    progress.observe(committed=4, end=9, now=50)
    assert progress.stalled_seconds(now=60) == 10


def test_a_group_that_never_committed_lags_by_the_whole_partition():
    progress = PartitionProgress(advanced_at=0)
    progress.observe(committed=None, end=12, now=0)
    assert progress.lag == 12


class Coordinator:
    def __init__(self, committed: dict[TopicPartition, int]) -> None:
        self.committed = committed
        self.requests: list[list[TopicPartition]] = []

    async def fetch_committed_offsets(self, partitions):
        self.requests.append(list(partitions))
        return {p: OffsetAndMetadata(self.committed[p], "") for p in partitions if p in self.committed}


async def test_the_committed_offsets_of_all_assigned_partitions_are_asked_for_in_one_request():
    partitions = [TopicPartition(f"invoices.commands.from.i{n}", p) for n in range(20) for p in range(3)]
    coordinator = Coordinator({partition: 5 for partition in partitions[1:]})

    async def end_offsets(assigned):
        return dict.fromkeys(assigned, 7)

    consumer = SimpleNamespace(assignment=lambda: set(partitions), end_offsets=end_offsets, _coordinator=coordinator)
    progress = ConsumerProgress(CollectorRegistry(), stall_seconds=120)
    await progress.observe(consumer)
    assert len(coordinator.requests) == 1 and set(coordinator.requests[0]) == set(partitions)
    assert progress.partitions[partitions[0]].lag == 7  # never committed
    assert {progress.partitions[partition].lag for partition in partitions[1:]} == {2}
