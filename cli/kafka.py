"""Following the platform's topics from the CLI."""

import asyncio


async def until_assigned(watcher) -> None:
    """Wait until the subscriber reads from the end of its partitions: what is published after
    this returns, it sees."""
    while not watcher.consumer.assignment():
        await asyncio.sleep(0.05)
    for partition in watcher.consumer.assignment():
        await watcher.consumer.position(partition)
