from __future__ import annotations

import re

import pytest

from bot.core import decision
from bot.core.coverage import ContributorResult, Coverage, Verdict
from bot.core.decision import (
    CommentAction,
    CommentPolicy,
    CommentWrite,
    LastStatus,
    Outcome,
    Plan,
    Problem,
    PrView,
    Report,
    ReportConfig,
    StatusWrite,
    decide,
    same_text,
)
from bot.core.identity import Contributor, Identity
from bot.core.model import CommentRef, Role, StatusState
from bot.platforms.github.facts import GITHUB

SHA = "c0ffee" * 6 + "abcd"
OLD = "deadbeef" * 5
OK = StatusState.SUCCESS
FAIL = StatusState.FAILURE
ERR = StatusState.ERROR

PERSON = Contributor(
    Identity(platform=GITHUB, account_id="1", login="octo"),
    frozenset({Role.AUTHOR}),
    ("a1",),
    ("octo@x.org",),
)
COVERED = Coverage((ContributorResult(PERSON, Verdict.SIGNED, None, False),))
BLOCKED = Coverage((ContributorResult(PERSON, Verdict.UNSIGNED, None, True),))
WARNED = Coverage((ContributorResult(PERSON, Verdict.UNSIGNED, None, False),))

YES = Report("All contributors are covered by the CLA", "<!-- cla-bot -->\nall good\n")
NO = Report("1 contributor must sign the CLA", "<!-- cla-bot -->\nplease sign\n")
MISCONFIGURED = Report("No CLA is configured for this repository")


def comment(body: str, comment_id: int = 7) -> CommentRef:
    return CommentRef(comment_id, body, "cla-bot[bot]")


def pr(
    *,
    state: str = "open",
    labels: tuple[str, ...] = (),
    body: str | None = None,
    last: LastStatus | None = None,
) -> PrView:
    return PrView(
        state=state,
        head_sha=SHA,
        labels=labels,
        comment=comment(body) if body is not None else None,
        last_status=last,
    )


def status(state: StatusState, report: Report) -> StatusWrite:
    return StatusWrite(SHA, state, report.description, "cla", "https://cla.example/sign")


CASES: list[tuple[str, Coverage | Problem, PrView, Report | None, ReportConfig, Plan]] = [
    (
        "first check, someone must sign: fail, cla/no, create the comment",
        BLOCKED,
        pr(),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED, status(FAIL, NO), ("cla/no",), (), CommentWrite.create(NO.body)),
    ),
    (
        "first check, all covered: success, cla/yes, no comment is created",
        COVERED,
        pr(),
        YES,
        ReportConfig(),
        Plan(Outcome.COVERED, status(OK, YES), ("cla/yes",), (), None),
    ),
    (
        "all covered with ALWAYS: the comment is created",
        COVERED,
        pr(),
        YES,
        ReportConfig(comment_when_covered=CommentPolicy.ALWAYS),
        Plan(Outcome.COVERED, status(OK, YES), ("cla/yes",), (), CommentWrite.create(YES.body)),
    ),
    (
        "signed after being blocked: the comment is edited, labels flip",
        COVERED,
        pr(labels=("bug", "cla/no"), body=NO.body),
        YES,
        ReportConfig(),
        Plan(
            Outcome.COVERED,
            status(OK, YES),
            ("cla/yes",),
            ("cla/no",),
            CommentWrite.edit(7, YES.body),
        ),
    ),
    (
        "new unsigned commit after success: labels flip back, comment edited",
        BLOCKED,
        pr(labels=("cla/yes",), body=YES.body, last=LastStatus(OK, YES.description, SHA)),
        NO,
        ReportConfig(),
        Plan(
            Outcome.BLOCKED,
            status(FAIL, NO),
            ("cla/no",),
            ("cla/yes",),
            CommentWrite.edit(7, NO.body),
        ),
    ),
    (
        "nothing changed: empty plan",
        BLOCKED,
        pr(labels=("cla/no",), body=NO.body, last=LastStatus(FAIL, NO.description, SHA)),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED),
    ),
    (
        "body differs only in whitespace: no edit",
        BLOCKED,
        pr(
            labels=("cla/no",),
            body="<!-- cla-bot -->\r\nplease   sign\r\n\r\n",
            last=LastStatus(FAIL, NO.description, SHA),
        ),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED),
    ),
    (
        "same status on an older sha: written again on the head",
        BLOCKED,
        pr(labels=("cla/no",), body=NO.body, last=LastStatus(FAIL, NO.description, OLD)),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED, status(FAIL, NO)),
    ),
    (
        "same state, other description: written",
        BLOCKED,
        pr(labels=("cla/no",), body=NO.body, last=LastStatus(FAIL, "2 contributors", SHA)),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED, status(FAIL, NO)),
    ),
    (
        "pending status from a running check is replaced",
        COVERED,
        pr(labels=("cla/yes",), last=LastStatus(StatusState.PENDING, YES.description, SHA)),
        YES,
        ReportConfig(),
        Plan(Outcome.COVERED, status(OK, YES)),
    ),
    (
        "both labels present: the wrong one goes, the right one is not re-added",
        COVERED,
        pr(labels=("cla/no", "cla/yes")),
        YES,
        ReportConfig(),
        Plan(Outcome.COVERED, status(OK, YES), (), ("cla/no",), None),
    ),
    (
        "labels compare case-insensitively; removal uses the PR's spelling",
        BLOCKED,
        pr(labels=("CLA/Yes", "CLA/NO"), body=NO.body),
        NO,
        ReportConfig(),
        Plan(Outcome.BLOCKED, status(FAIL, NO), (), ("CLA/Yes",), None),
    ),
    (
        "custom labels and context",
        BLOCKED,
        pr(labels=("cla/yes",)),
        NO,
        ReportConfig(
            context="license/cla", label_yes="openeuler-cla/yes", label_no="openeuler-cla/no"
        ),
        Plan(
            Outcome.BLOCKED,
            StatusWrite(SHA, FAIL, NO.description, "license/cla", "https://cla.example/sign"),
            ("openeuler-cla/no",),
            (),
            CommentWrite.create(NO.body),
        ),
    ),
    (
        "no statuses on this forge: labels and comment only",
        BLOCKED,
        pr(),
        NO,
        ReportConfig(write_status=False),
        Plan(Outcome.BLOCKED, None, ("cla/no",), (), CommentWrite.create(NO.body)),
    ),
    (
        "co-authors under WARN do not block",
        WARNED,
        pr(),
        YES,
        ReportConfig(),
        Plan(Outcome.COVERED, status(OK, YES), ("cla/yes",), (), None),
    ),
    (
        "closed PR: nothing",
        BLOCKED,
        pr(state="closed", labels=("cla/yes",)),
        NO,
        ReportConfig(),
        Plan(Outcome.SKIPPED),
    ),
    (
        "merged PR: nothing",
        COVERED,
        pr(state="merged"),
        YES,
        ReportConfig(),
        Plan(Outcome.SKIPPED),
    ),
    (
        "the check found the PR closed: nothing",
        Problem.PR_CLOSED,
        pr(),
        None,
        ReportConfig(),
        Plan(Outcome.SKIPPED),
    ),
    (
        "the head moved while checking: nothing",
        Problem.STALE_HEAD,
        pr(labels=("cla/yes",)),
        None,
        ReportConfig(),
        Plan(Outcome.SKIPPED),
    ),
    (
        "no agreement: error status, stop claiming coverage, comment untouched",
        Problem.NO_AGREEMENT,
        pr(labels=("cla/yes",), body=NO.body),
        MISCONFIGURED,
        ReportConfig(),
        Plan(Outcome.ERROR, status(ERR, MISCONFIGURED), (), ("cla/yes",), None),
    ),
    (
        "no agreement, already reported: nothing",
        Problem.NO_AGREEMENT,
        pr(labels=("cla/no",), last=LastStatus(ERR, MISCONFIGURED.description, SHA)),
        MISCONFIGURED,
        ReportConfig(),
        Plan(Outcome.ERROR),
    ),
]


@pytest.mark.parametrize(
    ("check", "view", "report", "config", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    check: Coverage | Problem,
    view: PrView,
    report: Report | None,
    config: ReportConfig,
    expected: Plan,
) -> None:
    plan = decide(check, view, report=report, config=config, target_url="https://cla.example/sign")
    assert plan == expected


@pytest.mark.parametrize("check", [COVERED, BLOCKED, Problem.NO_AGREEMENT])
def test_decide_needs_a_report_to_write(check: Coverage | Problem) -> None:
    with pytest.raises(ValueError):
        decide(check, pr(), report=None)


@pytest.mark.parametrize(
    ("labels", "check"),
    [
        ((), COVERED),
        ((), BLOCKED),
        (("cla/yes",), BLOCKED),
        (("cla/no",), COVERED),
        (("cla/yes", "cla/no"), COVERED),
        (("cla/yes", "cla/no"), BLOCKED),
        (("x", "cla/no"), BLOCKED),
    ],
)
def test_exactly_one_label_ends_up_present(labels: tuple[str, ...], check: Coverage) -> None:
    plan = decide(check, pr(labels=labels), report=NO)
    after = (set(labels) - set(plan.remove_labels)) | set(plan.add_labels)
    assert len(after & {"cla/yes", "cla/no"}) == 1
    assert not set(plan.remove_labels) - set(labels)  # absent labels are never removed
    assert not set(plan.add_labels) & set(labels)  # present labels are never re-added


def test_default_config_matches_interfaces() -> None:
    config = ReportConfig()
    assert (config.context, config.label_yes, config.label_no) == ("cla", "cla/yes", "cla/no")
    assert config.comment_when_covered is CommentPolicy.EDIT_ONLY


@pytest.mark.parametrize(("yes", "no"), [("cla", "CLA"), ("", "cla/no"), ("cla/yes", "")])
def test_config_rejects_bad_labels(yes: str, no: str) -> None:
    with pytest.raises(ValueError):
        ReportConfig(label_yes=yes, label_no=no)


def test_comment_write_shapes() -> None:
    assert CommentWrite.create("b").action is CommentAction.CREATE
    assert CommentWrite.edit(3, "b").comment_id == 3
    with pytest.raises(ValueError):
        CommentWrite(CommentAction.EDIT, "b")
    with pytest.raises(ValueError):
        CommentWrite(CommentAction.CREATE, "b", 3)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("a b", "a  b", True), ("a\r\nb\n", "a\nb", True), ("ab", "a b", False), ("", " \n", True)],
)
def test_same_text(a: str, b: str, same: bool) -> None:
    assert same_text(a, b) is same


def test_a_plan_counts_its_writes() -> None:
    assert Plan(Outcome.SKIPPED).writes == 0
    assert Plan(Outcome.BLOCKED, add_labels=("cla/no", "x")).writes == 1


def test_docstring_has_the_mermaid_state_diagram() -> None:
    doc = decision.__doc__ or ""
    match = re.search(r"```mermaid\n(stateDiagram-v2\n.*?)```", doc, re.S)
    assert match is not None
    diagram = match.group(1)
    for state in ("Checking", "Blocked", "Covered", "Error"):
        assert f"--> {state}" in diagram


# -- check runs ---------------------------------------------------------------------------------

CHECKS = ReportConfig(write_check_run=True)
URL = "https://cla.example/sign"
NO_RUN = decision.CheckRunWrite(
    SHA,
    "cla",
    decision.CheckConclusion.ACTION_REQUIRED,
    NO.description,
    NO.description,
    URL,
    (decision.RECHECK,),
)


def with_run(run: decision.LastCheckRun | None) -> PrView:
    return PrView(state="open", head_sha=SHA, labels=("cla/no",), last_check_run=run)


def test_a_check_run_is_created_on_the_head_then_updated_then_left_alone() -> None:
    first = decide(BLOCKED, with_run(None), report=NO, config=CHECKS, target_url=URL)
    assert first.check_run == NO_RUN and first.writes == 3  # status, run, comment
    assert NO_RUN.actions == (
        decision.CheckAction("Re-check", "Check the CLA of this pull request again", "recheck"),
    )
    same = with_run(decision.LastCheckRun(41, SHA, NO_RUN.digest))
    assert decide(BLOCKED, same, report=NO, config=CHECKS, target_url=URL).check_run is None
    covered = decide(COVERED, same, report=YES, config=CHECKS, target_url=URL).check_run
    assert covered == decision.CheckRunWrite(
        SHA, "cla", decision.CheckConclusion.SUCCESS, YES.description, YES.description, URL, (), 41
    )
    moved = with_run(decision.LastCheckRun(41, OLD, NO_RUN.digest))
    run = decide(BLOCKED, moved, report=NO, config=CHECKS, target_url=URL).check_run
    assert run == NO_RUN  # a new head: a new run


def test_the_check_run_summary_and_failure_conclusion() -> None:
    report = Report(NO.description, NO.body, "please sign\n")
    config = ReportConfig(
        write_check_run=True, check_failure_conclusion=decision.CheckConclusion.FAILURE
    )
    run = decide(BLOCKED, with_run(None), report=report, config=config).check_run
    assert run is not None
    assert (run.conclusion, run.summary) == (decision.CheckConclusion.FAILURE, "please sign\n")
    error = decide(Problem.NO_AGREEMENT, with_run(None), report=MISCONFIGURED, config=CHECKS)
    assert error.check_run is not None
    assert error.check_run.conclusion is decision.CheckConclusion.FAILURE
    assert decide(BLOCKED, with_run(None), report=NO).check_run is None  # not configured


QUEUE_YES = Report("#5: every contributor is covered by the CLA")
QUEUE_NO = Report("#5: the CLA is not signed by everyone")


@pytest.mark.parametrize(
    ("queued", "report", "state"),
    [
        (decision.QueuedPr(5, True), QUEUE_YES, OK),
        (decision.QueuedPr(5, False), QUEUE_NO, FAIL),
        (None, Report("This merge queue entry could not be matched to a pull request"), FAIL),
    ],
)
def test_a_merge_group_gets_one_status(
    queued: decision.QueuedPr | None, report: Report, state: StatusState
) -> None:
    plan = decision.decide_merge_group(
        OLD, queued, report=report, config=ReportConfig(write_check_run=True), target_url=URL
    )
    assert plan == decision.GroupPlan(
        state is OK, status=StatusWrite(OLD, state, report.description, "cla", URL)
    )


def test_a_merge_group_gets_a_check_run_where_only_check_runs_are_written() -> None:
    config = ReportConfig(write_status=False, write_check_run=True)
    plan = decision.decide_merge_group(
        OLD, decision.QueuedPr(5, False), report=QUEUE_NO, config=config
    )
    assert plan == decision.GroupPlan(
        False,
        check_run=decision.CheckRunWrite(
            OLD, "cla", decision.CheckConclusion.FAILURE, QUEUE_NO.description, QUEUE_NO.description
        ),
    )
