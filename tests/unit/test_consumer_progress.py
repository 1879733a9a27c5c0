"""A partition counts as stalled only while records wait and its committed offset does not move."""

from chassis.progress import PartitionProgress


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
