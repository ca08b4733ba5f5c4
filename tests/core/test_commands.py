from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import Command, CommandKind, parse_commands

CHECK = Command(CommandKind.CHECK)
DELETE = Command(CommandKind.DELETE_MY_DATA)
CONFIRM = Command(CommandKind.DELETE_MY_DATA, "confirm")
EXPORT = Command(CommandKind.EXPORT_MY_DATA)


def status(login: str | None = None) -> Command:
    return Command(CommandKind.STATUS, login)


def unknown(word: str | None) -> Command:
    return Command(CommandKind.UNKNOWN, word)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/cla check", (CHECK,)),
        ("/CLA Check", (CHECK,)),
        ("   /cla   check   ", (CHECK,)),
        ("\t/cla\tcheck", (CHECK,)),
        ("/check-cla", (CHECK,)),
        ("/Check-CLA  ", (CHECK,)),
        ("/cla check please", (CHECK,)),  # text after an argument-less command is ignored
        # CLA Assistant Lite's word: the whole line, any case; `/recheck` as a command
        ("recheck", (CHECK,)),
        ("Recheck", (CHECK,)),
        ("  RECHECK \t", (CHECK,)),
        ("Signed it just now.\nrecheck", (CHECK,)),
        ("/recheck", (CHECK,)),
        ("/ReCheck please", (CHECK,)),
        ("recheck\n/cla check\n/recheck", (CHECK,)),
        ("recheck please", ()),  # prose is not a command
        ("please recheck", ()),
        ("recheck.", ()),
        ("recheck?", ()),
        ("I'll recheck tomorrow", ()),
        ("rechecked", ()),
        ("`recheck`", ()),
        ("/rechecking", ()),
        ("> recheck", ()),
        ("```\nrecheck\n```", ()),
        ("/cla status @octo", (status("octo"),)),
        ("/cla status octo", (status("octo"),)),
        ("/cla status @Octo-Cat", (status("Octo-Cat"),)),
        ("/cla status @renovate[bot]", (status("renovate[bot]"),)),
        ("/cla status", (status(),)),
        ("/cla status @", (unknown("status"),)),
        ("/cla status <script>", (unknown("status"),)),
        ("/cla delete-my-data", (DELETE,)),
        ("/CLA DELETE-MY-DATA", (DELETE,)),
        ("/cla export-my-data", (EXPORT,)),
        # the erasure asks first; "confirm" (one word, any case) is the answer
        ("/cla delete-my-data confirm", (CONFIRM,)),
        ("/CLA Delete-My-Data CONFIRM", (CONFIRM,)),
        ("  /cla\tdelete-my-data   confirm  ", (CONFIRM,)),
        ("/cla delete-my-data confirm please", (CONFIRM,)),
        ("/cla delete-my-data please", (DELETE,)),
        ("/cla delete-my-data confirmed", (DELETE,)),
        ("/cla delete-my-data yes", (DELETE,)),
        ("/cla confirm", (unknown("confirm"),)),
        ("> /cla delete-my-data confirm", ()),
        ("```\n/cla delete-my-data confirm\n```", ()),
        # one erasure command per comment, the first: a request cannot confirm itself
        ("/cla delete-my-data\n/cla delete-my-data confirm", (DELETE,)),
        ("/cla delete-my-data confirm\n/cla delete-my-data", (CONFIRM,)),
        ("/cla delete-my-data confirm\n/cla export-my-data", (CONFIRM, EXPORT)),
        ("/cla something-else", (unknown("something-else"),)),
        ("/cla Frobnicate now", (unknown("frobnicate"),)),
        ("/cla", (unknown(None),)),
        ("/cla <b>x</b>", (unknown(None),)),
        # not commands
        ("", ()),
        ("please /cla check", ()),
        ("`/cla check`", ()),
        ("/clacheck", ()),
        ("/cla-check", ()),
        ("/check-cla-now", ()),
        ("cla check", ()),
        ("Thanks! LGTM", ()),
        # quoted lines are ignored
        ("> /cla check", ()),
        ("  > /cla delete-my-data", ()),
        (">> /cla check", ()),
        (">/cla check", ()),
        ("> quoted\n/cla check", (CHECK,)),
        # fenced code blocks are ignored, commands around them are not
        ("```\n/cla check\n```\n/cla status", (status(),)),
        ("~~~sh\n/cla check\n~~~", ()),
        ("````\n```\n/cla check\n````\n/cla export-my-data", (EXPORT,)),
        ("```\n/cla check\n~~~\n/cla status\n```\n/cla delete-my-data", (DELETE,)),
        ("```\n/cla check", ()),  # an unclosed fence runs to the end
        ("``` not a fence ```\n/cla check", (CHECK,)),  # inline code span, not a fence
        # several commands, one per line, in order; repeats collapse
        (
            "/cla check\r\n/cla status @a\r\n/cla check\n"
            "/cla status @A\n/check-cla\n/cla status @b",
            (CHECK, status("a"), status("b")),
        ),
        ("/cla status\n/cla status", (status(),)),
        ("/cla foo\n/cla FOO", (unknown("foo"),)),
        ("/cla delete-my-data\n/cla export-my-data", (DELETE, EXPORT)),
    ],
)
def test_parse_commands(body: str, expected: tuple[Command, ...]) -> None:
    assert parse_commands(body) == expected


@given(st.text())
def test_never_raises_and_yields_only_commands(body: str) -> None:
    commands = parse_commands(body)
    assert len(set(commands)) == len(commands)
    for command in commands:
        assert isinstance(command.kind, CommandKind)
        if "/cla" not in body.lower():
            assert command == CHECK


@given(
    st.lists(
        st.sampled_from(
            [
                "/cla check",
                "/cla status @x",
                "> /cla check",
                "```",
                "hi",
                "/cla delete-my-data",
                "/cla delete-my-data confirm",
                "",
                "   ",
            ]
        ),
        max_size=12,
    )
)
def test_never_raises_on_structured_bodies(lines: list[str]) -> None:
    commands = parse_commands("\n".join(lines))
    assert [c.kind for c in commands].count(CommandKind.DELETE_MY_DATA) <= 1
