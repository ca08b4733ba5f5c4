"""Comment commands: ``/cla check`` (aliases ``/check-cla``, ``/recheck`` and a line that is
just ``recheck``), ``/cla status [@login]``, ``/cla delete-my-data [confirm]``,
``/cla export-my-data``.

Grammar, one command per line::

    line    := ws* ( "/check-cla" | "/recheck" | "/cla" ( ws+ word ( ws+ rest )? )? ) ws*
             | ws* "recheck" ws*
    status  := "/cla" ws+ "status" ( ws+ "@"? login )?
    erase   := "/cla" ws+ "delete-my-data" ( ws+ "confirm" )?

An erasure asks first: ``/cla delete-my-data`` is the request (the bot answers with what would
be erased), ``/cla delete-my-data confirm`` — in a later comment — carries it out. A comment
holds at most one of the two (the first), so that no comment can confirm its own request.

Case-insensitive keywords; leading and trailing whitespace ignored; text after a command that
takes no argument is ignored (``/cla check please`` is a check). Lines inside fenced code blocks
(```` ``` ```` or ``~~~``) and quoted lines (``>``) are skipped, so quoting someone's command
does not run it again. Anything else is not a command and yields nothing. Repeated commands
collapse to the first. This module never raises on any text.

``recheck`` is the word CLA Assistant Lite's users type (its workflow runs when a comment's whole
body is ``recheck``), so projects moving over keep their habit. As a bare word it counts only
when it is the whole line: ``please recheck`` or ``recheck.`` is prose, not a command.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.core.identity import LOGIN_PATTERN

__all__ = ["CONFIRM", "Command", "CommandKind", "parse_commands"]

CONFIRM = "confirm"


class CommandKind(enum.StrEnum):
    CHECK = "check"
    STATUS = "status"
    DELETE_MY_DATA = "delete-my-data"
    EXPORT_MY_DATA = "export-my-data"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Command:
    """``argument``: the target login of ``STATUS`` (without ``@``; ``None`` = the PR's
    contributors), :data:`CONFIRM` for the confirmation of ``DELETE_MY_DATA`` (``None`` = the
    request), or the unknown word of ``UNKNOWN`` (lower-cased; ``None`` for a bare ``/cla`` or
    a word that is not a plain ``[a-z0-9_-]`` token)."""

    kind: CommandKind
    argument: str | None = None


_LOGIN = re.compile(rf"@?(?P<login>{LOGIN_PATTERN})")
_WORD = re.compile(r"[a-z0-9_-]{1,40}")
_FENCE = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_CHECK_ALIASES = frozenset({"/check-cla", "/recheck"})
_NO_ARGUMENT = {
    "check": CommandKind.CHECK,
    "delete-my-data": CommandKind.DELETE_MY_DATA,
    "export-my-data": CommandKind.EXPORT_MY_DATA,
}


def _parse_line(line: str) -> Command | None:
    words = line.split()
    if not words:
        return None
    head = words[0].lower()
    if head in _CHECK_ALIASES or (head == "recheck" and len(words) == 1):
        return Command(CommandKind.CHECK)
    if head != "/cla":
        return None
    if len(words) == 1:
        return Command(CommandKind.UNKNOWN)
    word = words[1].lower()
    if word == "delete-my-data" and len(words) > 2 and words[2].lower() == CONFIRM:
        return Command(CommandKind.DELETE_MY_DATA, CONFIRM)
    if word in _NO_ARGUMENT:
        return Command(_NO_ARGUMENT[word])
    if word == "status":
        if len(words) == 2:
            return Command(CommandKind.STATUS)
        match = _LOGIN.fullmatch(words[2])
        if match is not None:
            return Command(CommandKind.STATUS, match.group("login"))
    return Command(CommandKind.UNKNOWN, word if _WORD.fullmatch(word) else None)


def parse_commands(body: str) -> tuple[Command, ...]:
    """Every command in a comment body, in order, without repeats (one erasure command)."""
    commands: list[Command] = []
    seen: set[tuple[CommandKind, str | None]] = set()
    fence: str | None = None  # the opening fence while inside a fenced code block
    for raw in body.splitlines():
        line = raw.strip()
        if fence is not None:
            if line.startswith(fence[0]) and set(line) == {fence[0]} and len(line) >= len(fence):
                fence = None
            continue
        opening = _FENCE.fullmatch(line)
        if opening is not None and not (
            opening.group("fence")[0] == "`" and "`" in opening.group("info")
        ):
            fence = opening.group("fence")
            continue
        if line.startswith(">"):
            continue
        command = _parse_line(line)
        if command is None:
            continue
        identity = (
            command.kind,
            command.argument.lower()
            if command.argument and command.kind is not CommandKind.DELETE_MY_DATA
            else None,
        )
        if identity not in seen:
            seen.add(identity)
            commands.append(command)
    return tuple(commands)
