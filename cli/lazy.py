"""Commands registered by name and summary, imported only when they run.

A command's module brings its libraries (pydantic and the contracts, aiokafka, rich):
`invoicing --help` lists every command without importing any of them, and a command imports
its own module alone. A group made with `lazy_group` holds a placeholder per lazy command (its
name and summary: what a help listing shows) and swaps in the real command when one is invoked.
"""

import importlib
from dataclasses import dataclass

import typer
from typer._click import Command
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command, get_group


@dataclass(frozen=True)
class Lazy:
    """`target` is "module:attribute", a typer.Typer (a group of commands) or a command function;
    `summary` is the line a help listing shows: the start of the command's own help
    (tests/unit/test_cli_startup.py checks that it is)."""

    name: str
    target: str
    summary: str

    def load(self) -> Command:
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if isinstance(found, typer.Typer):
            # A group stays a group even with one command (`payments unmatched`), as add_typer keeps it.
            command = get_group(found)
        else:
            single = typer.Typer(add_completion=False)
            single.command(self.name)(found)
            command = get_command(single)
        command.name = self.name
        return command


class _Placeholder(TyperCommand):
    def __init__(self, lazy: Lazy) -> None:
        super().__init__(lazy.name, short_help=lazy.summary, help=lazy.summary)
        self.lazy = lazy


class LazyGroup(TyperGroup):
    lazy: tuple[Lazy, ...] = ()

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        for entry in self.lazy:
            self.commands.setdefault(entry.name, _Placeholder(entry))

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder):
            command = self.commands[name] = command.lazy.load()
        return name, command, rest


def lazy_group(*lazy: Lazy, base: type[LazyGroup] = LazyGroup) -> type[LazyGroup]:
    """A group class (typer.Typer(cls=...)) with these commands beside its own."""
    return type("LazyGroup", (base,), {"lazy": base.lazy + lazy})
