"""What a pull request should show after a check: the PR state machine, pure.

:func:`decide` compares what the PR shows now (:class:`PrView`) with what the check found
(a :class:`~bot.core.coverage.Coverage`, or a :class:`Problem`) and returns the smallest
:class:`Plan` of writes that brings the PR there: a commit status, label changes, and the bot's
single comment (created or edited in place). Texts come rendered in a :class:`Report` (see
:mod:`bot.core.messages`); the shell applies the plan and records :attr:`Plan.outcome`.

```mermaid
stateDiagram-v2
    direction LR
    [*] --> Checking: opened, reopened, new commits, /cla check
    Checking --> Blocked: someone must sign, re-sign, link an email or lift a restriction
    Checking --> Covered: every contributor signed or is allowlisted
    Checking --> Error: no CLA configured for the repository
    Checking --> [*]: PR closed, or head moved on (nothing is written)
    Blocked --> Checking: a blocker signs, new commits, /cla check
    Covered --> Checking: new commits, /cla check, a signature erased
    Error --> Checking: configuration fixed, /cla check
    Blocked: Blocked - status failure, label cla/no, comment created or edited
    Covered: Covered - status success, label cla/yes, existing comment edited
    Error: Error - status error, label cla/yes removed, comment untouched
```

Rules of the plan:

* A status is written unless the same state and description are already on the head sha.
* Exactly one of ``label_yes`` / ``label_no`` ends up on the PR: the wanted one is added when
  absent, the other removed when present (label names compare case-insensitively).
* The comment is created when someone blocks (or, with ``CommentPolicy.ALWAYS``, always);
  when everyone is covered, an existing comment is edited to say so and none is created. It is
  never rewritten with a body that differs only in whitespace.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.coverage import Coverage
from bot.core.model import CommentRef, StatusState

__all__ = [
    "CommentAction",
    "CommentPolicy",
    "CommentWrite",
    "LastStatus",
    "Outcome",
    "Plan",
    "PrView",
    "Problem",
    "Report",
    "ReportConfig",
    "StatusWrite",
    "decide",
    "decide_failure",
    "same_text",
]


class Problem(enum.StrEnum):
    """Why no coverage could be computed."""

    PR_CLOSED = "pr-closed"  # nothing to report on: write nothing
    STALE_HEAD = "stale-head"  # the head moved while checking; a newer check follows
    NO_AGREEMENT = "no-agreement"  # no CLA is configured for the repository: status error


class Outcome(enum.StrEnum):
    COVERED = "covered"  # nobody blocks
    BLOCKED = "blocked"  # someone must act
    SKIPPED = "skipped"  # nothing evaluated or written (closed PR, stale head)
    ERROR = "error"  # the check could not run (see Problem)


class CommentPolicy(enum.StrEnum):
    EDIT_ONLY = "edit-only"  # create a comment only when someone must act
    ALWAYS = "always"  # also create one when everyone is covered


class CommentAction(enum.StrEnum):
    CREATE = "create"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class ReportConfig:
    context: str = "cla"
    label_yes: str = "cla/yes"
    label_no: str = "cla/no"
    comment_when_covered: CommentPolicy = CommentPolicy.EDIT_ONLY
    write_status: bool = True  # False where the forge has no commit statuses to use

    def __post_init__(self) -> None:
        if not self.label_yes or not self.label_no:
            raise ValueError("label names must not be empty")
        if self.label_yes.casefold() == self.label_no.casefold():
            raise ValueError("label_yes and label_no must differ")


@dataclass(frozen=True, slots=True)
class LastStatus:
    """The latest status with our context on some sha, as the forge reports it."""

    state: StatusState
    description: str
    sha: str


@dataclass(frozen=True, slots=True)
class PrView:
    """What the PR shows now. ``state`` is the forge's word (``open``, ``closed``, ``merged``)."""

    state: str
    head_sha: str
    labels: tuple[str, ...] = ()
    comment: CommentRef | None = None  # the bot's existing comment
    last_status: LastStatus | None = None

    @property
    def is_open(self) -> bool:
        return self.state.strip().lower() == "open"


@dataclass(frozen=True, slots=True)
class Report:
    """The rendered texts of one check: the status description and the comment body."""

    description: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class StatusWrite:
    sha: str
    state: StatusState
    description: str
    context: str
    target_url: str | None = None


@dataclass(frozen=True, slots=True)
class CommentWrite:
    action: CommentAction
    body: str
    comment_id: int | None = None

    def __post_init__(self) -> None:
        if (self.action is CommentAction.EDIT) != (self.comment_id is not None):
            raise ValueError("an edit needs a comment_id, a create must not have one")

    @classmethod
    def create(cls, body: str) -> CommentWrite:
        return cls(CommentAction.CREATE, body)

    @classmethod
    def edit(cls, comment_id: int, body: str) -> CommentWrite:
        return cls(CommentAction.EDIT, body, comment_id)


@dataclass(frozen=True, slots=True)
class Plan:
    outcome: Outcome
    status: StatusWrite | None = None
    add_labels: tuple[str, ...] = field(default=())
    remove_labels: tuple[str, ...] = field(default=())
    comment: CommentWrite | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.status is None
            and not self.add_labels
            and not self.remove_labels
            and self.comment is None
        )


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace (forges rewrite line endings and trailing spaces)."""
    return a.split() == b.split()


def _status(
    pr: PrView,
    state: StatusState,
    description: str,
    *,
    config: ReportConfig,
    target_url: str | None,
) -> StatusWrite | None:
    if not config.write_status:
        return None
    last = pr.last_status
    if (
        last is not None
        and last.sha == pr.head_sha
        and last.state is state
        and last.description == description
    ):
        return None
    return StatusWrite(pr.head_sha, state, description, config.context, target_url)


def _present(labels: Sequence[str], name: str) -> str | None:
    """The PR's own spelling of ``name``, if present."""
    return next((label for label in labels if label.casefold() == name.casefold()), None)


def _labels(pr: PrView, *, want: str | None, drop: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    add = (want,) if want is not None and _present(pr.labels, want) is None else ()
    present = _present(pr.labels, drop)
    return add, (present,) if present is not None else ()


def _comment(pr: PrView, body: str, *, create: bool) -> CommentWrite | None:
    if pr.comment is not None:
        if same_text(pr.comment.body, body):
            return None
        return CommentWrite.edit(pr.comment.comment_id, body)
    return CommentWrite.create(body) if create else None


def decide(
    check: Coverage | Problem,
    pr: PrView,
    *,
    report: Report | None,
    config: ReportConfig | None = None,
    target_url: str | None = None,
) -> Plan:
    """The writes that make ``pr`` show the result of ``check``.

    ``report`` holds the rendered texts; it may be ``None`` only when nothing is to be written
    (closed PR, stale head). ``target_url`` is the status's details link (the signing page).
    """
    config = config if config is not None else ReportConfig()
    if not pr.is_open or check in (Problem.PR_CLOSED, Problem.STALE_HEAD):
        return Plan(Outcome.SKIPPED)
    if report is None:
        raise ValueError("a report is needed to write the result of an open PR's check")

    if isinstance(check, Problem):  # NO_AGREEMENT: say so, and stop claiming coverage
        status = _status(
            pr, StatusState.ERROR, report.description, config=config, target_url=target_url
        )
        _, remove = _labels(pr, want=None, drop=config.label_yes)
        return Plan(Outcome.ERROR, status=status, remove_labels=remove)

    if check.passes:
        outcome, state = Outcome.COVERED, StatusState.SUCCESS
        want, drop = config.label_yes, config.label_no
        create = config.comment_when_covered is CommentPolicy.ALWAYS
    else:
        outcome, state = Outcome.BLOCKED, StatusState.FAILURE
        want, drop = config.label_no, config.label_yes
        create = True
    add, remove = _labels(pr, want=want, drop=drop)
    return Plan(
        outcome,
        status=_status(pr, state, report.description, config=config, target_url=target_url),
        add_labels=add,
        remove_labels=remove,
        comment=_comment(pr, report.body, create=create),
    )


def decide_failure(
    pr: PrView,
    *,
    report: Report,
    config: ReportConfig | None = None,
    target_url: str | None = None,
) -> Plan:
    """The writes that tell an open PR its check could not run (its job gave up): status
    ``error`` with ``report.description``, no claim of coverage (``label_yes`` removed), and the
    bot's one comment — created, or edited in place — saying so and how to retry. A PR never
    waits in silence."""
    config = config if config is not None else ReportConfig()
    if not pr.is_open:
        return Plan(Outcome.SKIPPED)
    status = _status(
        pr, StatusState.ERROR, report.description, config=config, target_url=target_url
    )
    _, remove = _labels(pr, want=None, drop=config.label_yes)
    return Plan(
        Outcome.ERROR,
        status=status,
        remove_labels=remove,
        comment=_comment(pr, report.body, create=True),
    )
