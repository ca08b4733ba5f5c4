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
* Where check runs are written (``ReportConfig.write_check_run``), one check run named like the
  status context shows the same result on the head sha: created the first time for that sha,
  updated in place after, and not written at all when its content (:attr:`CheckRunWrite.digest`)
  is already there. A run that does not pass carries a *Re-check* button (:data:`RECHECK`).
* A merge queue entry (:func:`decide_merge_group`) gets one write on its head sha: success when
  the PR it names is covered at its own head, failure naming the PR otherwise.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.coverage import Coverage
from bot.core.model import CommentRef, StatusState

__all__ = [
    "RECHECK",
    "CheckAction",
    "CheckConclusion",
    "CheckRunWrite",
    "CommentAction",
    "CommentPolicy",
    "CommentWrite",
    "GroupPlan",
    "LastCheckRun",
    "LastStatus",
    "Outcome",
    "Plan",
    "PrView",
    "Problem",
    "QueuedPr",
    "Report",
    "ReportConfig",
    "StatusWrite",
    "decide",
    "decide_failure",
    "decide_merge_group",
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


class CheckConclusion(enum.StrEnum):
    """The conclusions of a completed check run the bot writes (GitHub's words)."""

    SUCCESS = "success"
    ACTION_REQUIRED = "action_required"  # someone must act: the details page says who and how
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class CheckAction:
    """A button on a check run; clicking it sends ``check_run`` ``requested_action`` with
    ``identifier``. GitHub's limits: label 20, description 40, identifier 20 characters."""

    label: str
    description: str
    identifier: str


RECHECK = CheckAction("Re-check", "Check the CLA of this pull request again", "recheck")


@dataclass(frozen=True, slots=True)
class ReportConfig:
    context: str = "cla"
    label_yes: str = "cla/yes"
    label_no: str = "cla/no"
    comment_when_covered: CommentPolicy = CommentPolicy.EDIT_ONLY
    write_status: bool = True  # False where the forge has no commit statuses to use
    write_check_run: bool = False  # True where check runs are configured and the forge has them
    check_failure_conclusion: CheckConclusion = CheckConclusion.ACTION_REQUIRED

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
class LastCheckRun:
    """The bot's latest check run on some sha: its id, and the digest of what it shows."""

    run_id: int
    sha: str
    digest: str


@dataclass(frozen=True, slots=True)
class PrView:
    """What the PR shows now. ``state`` is the forge's word (``open``, ``closed``, ``merged``)."""

    state: str
    head_sha: str
    labels: tuple[str, ...] = ()
    comment: CommentRef | None = None  # the bot's existing comment
    last_status: LastStatus | None = None
    last_check_run: LastCheckRun | None = None

    @property
    def is_open(self) -> bool:
        return self.state.strip().lower() == "open"


@dataclass(frozen=True, slots=True)
class Report:
    """The rendered texts of one check: the status description and the comment body."""

    description: str
    body: str = ""
    summary: str = ""  # the comment's text without its marker, for a check run's details


@dataclass(frozen=True, slots=True)
class StatusWrite:
    sha: str
    state: StatusState
    description: str
    context: str
    target_url: str | None = None


@dataclass(frozen=True, slots=True)
class CheckRunWrite:
    """A completed check run to show on ``sha``: created when ``run_id`` is ``None``, else
    that run updated in place."""

    sha: str
    name: str
    conclusion: CheckConclusion
    title: str
    summary: str
    details_url: str | None = None
    actions: tuple[CheckAction, ...] = ()
    run_id: int | None = None

    @property
    def digest(self) -> str:
        """What the run shows, hashed: equal digests need no write."""
        shown = [
            self.name,
            self.conclusion.value,
            self.title,
            self.summary,
            self.details_url,
            [[a.label, a.description, a.identifier] for a in self.actions],
        ]
        return hashlib.sha256(json.dumps(shown).encode("utf-8")).hexdigest()


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
    check_run: CheckRunWrite | None = None

    @property
    def writes(self) -> int:
        """How many forge writes applying the plan takes (labels are added in one)."""
        return (
            (self.status is not None)
            + bool(self.add_labels)
            + len(self.remove_labels)
            + (self.comment is not None)
            + (self.check_run is not None)
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


def _check_run(
    pr: PrView,
    state: StatusState,
    report: Report,
    *,
    config: ReportConfig,
    target_url: str | None,
) -> CheckRunWrite | None:
    """The check run showing ``state`` on the head sha, or ``None`` when it shows it already
    (or check runs are not written)."""
    if not config.write_check_run:
        return None
    if state is StatusState.SUCCESS:
        conclusion = CheckConclusion.SUCCESS
    elif state is StatusState.FAILURE:
        conclusion = config.check_failure_conclusion
    else:  # the check could not run, or no CLA is configured
        conclusion = CheckConclusion.FAILURE
    last = pr.last_check_run
    run_id = last.run_id if last is not None and last.sha == pr.head_sha else None
    write = CheckRunWrite(
        sha=pr.head_sha,
        name=config.context,
        conclusion=conclusion,
        title=report.description,
        summary=report.summary or report.description,
        details_url=target_url,
        actions=() if conclusion is CheckConclusion.SUCCESS else (RECHECK,),
        run_id=run_id,
    )
    if run_id is not None and last is not None and last.digest == write.digest:
        return None
    return write


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
        run = _check_run(pr, StatusState.ERROR, report, config=config, target_url=target_url)
        _, remove = _labels(pr, want=None, drop=config.label_yes)
        return Plan(Outcome.ERROR, status=status, remove_labels=remove, check_run=run)

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
        check_run=_check_run(pr, state, report, config=config, target_url=target_url),
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
        check_run=_check_run(pr, StatusState.ERROR, report, config=config, target_url=target_url),
    )


@dataclass(frozen=True, slots=True)
class QueuedPr:
    """The PR a merge queue entry names, and whether the bot's check of its current head found
    everyone covered."""

    number: int
    covered: bool


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """The one write for a merge queue entry's head sha: a status, or a check run where only
    check runs are written."""

    covered: bool
    status: StatusWrite | None = None
    check_run: CheckRunWrite | None = None


def decide_merge_group(
    head_sha: str,
    queued: QueuedPr | None,
    *,
    report: Report,
    config: ReportConfig | None = None,
    target_url: str | None = None,
) -> GroupPlan:
    """What a merge queue entry's head commit shows: success when the PR it names is
    ``queued`` covered, failure otherwise — also when the entry names no PR the bot could
    match (``queued`` is ``None``): a queue never merges what was not checked. ``report``
    holds the rendered texts (its description names the PR). Written as a status when statuses
    are written, else as a check run: one write either way; the group's commits are never
    looked at."""
    config = config if config is not None else ReportConfig()
    covered = queued is not None and queued.covered
    state = StatusState.SUCCESS if covered else StatusState.FAILURE
    if config.write_status:
        return GroupPlan(
            covered,
            status=StatusWrite(head_sha, state, report.description, config.context, target_url),
        )
    if not config.write_check_run:
        return GroupPlan(covered)
    run = _check_run(
        PrView(state="open", head_sha=head_sha), state, report, config=config, target_url=target_url
    )
    if run is not None and covered is False:
        run = CheckRunWrite(  # the queue re-runs its own checks: no button on an entry
            run.sha, run.name, CheckConclusion.FAILURE, run.title, run.summary, run.details_url
        )
    return GroupPlan(covered, check_run=run)
