"""``cla-bot company``: the community's administrators decide on corporate CLAs.

A corporate signature covers nobody until it is approved here (or through the admin API with
an ``admin`` token). Wired into :mod:`bot.cli.main` with two lines, like :mod:`bot.cli.admin`.
The commands print names, states and domains — never the signatory's contact data — and exit 1
with one line when the company or the domain is unknown or the reason is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.services import admin, corporate
from bot.settings import Settings

COMMANDS = ("company",)
ACTOR = "operator"


def add_parsers(sub: Any) -> None:
    """Add ``company`` and its actions to ``cla-bot``'s subparsers."""
    company = sub.add_parser(
        "company",
        help="list corporate CLAs and approve or reject them",
        description="A corporate CLA covers nobody — no PR passes through it and no comment "
        "names the company — until an administrator approves it, with the email domains it "
        "lists. A domain its managers add later waits for approval again (approve the company "
        "again). Emails and accounts its managers list count while it is approved. Every "
        "decision is written to the audit trail and re-checks the pull requests it affects.",
    )
    actions = company.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser(
        "list",
        help="companies with their state, signing time and domains",
        description="Id, name, state (pending, approved, rejected), signing time and domains "
        "of every corporate CLA — never the signatory's contact data.",
    )
    listing.add_argument(
        "--pending",
        action="store_true",
        help="only those awaiting a decision (pending, or approved with a pending domain)",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser(
        "show",
        help="one company: agreement, domains and their states, managers, how many entries",
        description="Everything an administrator needs to decide: agreement and version, "
        "domains with their states, the managers' accounts, how many emails and accounts are "
        "listed (not which), and the last decision. Never the signatory's contact data.",
    )
    show.add_argument("id", type=int, help="the company's id (from `cla-bot company list`)")
    show.add_argument("--json", action="store_true", help="print JSON")
    approve = actions.add_parser(
        "approve",
        help="approve a company and every domain waiting in its list",
        description="Approve the company and each pending domain of its list (a domain the "
        "rules refuse today — a free-mail provider's, a public suffix, a noreply domain — is "
        "rejected instead). Its entries then cover their people; their PRs are re-checked.",
    )
    approve.add_argument("id", type=int, help="the company's id")
    reject = actions.add_parser(
        "reject",
        help="reject a company, or one domain of its list",
        description="Reject the company: it covers nobody, and its managers see the reason on "
        "their page (so put no personal data in it). With --domain, only that domain is "
        "rejected. The PRs it covered are re-checked.",
    )
    reject.add_argument("id", type=int, help="the company's id")
    reject.add_argument("--reason", required=True, help="why (shown to its managers)")
    reject.add_argument("--domain", help="reject only this domain of its list")


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _domains(view: corporate.CompanyView) -> str:
    return (
        ", ".join(f"{d.domain} ({d.status}{', proven' if d.proven else ''})" for d in view.domains)
        or "-"
    )


def _print_show(view: corporate.CompanyView) -> None:
    print(f"company {view.id}: {view.name}")
    print(f"  status:     {view.status}")
    print(f"  agreement:  {view.agreement} {view.version}, signed {_when(view.signed_at)}")
    print(f"  domains:    {_domains(view)}")
    for d in view.domains:
        if d.reason:
            print(f"    {d.domain}: {d.reason}")
    print(f"  listed:     {view.emails} email(s), {view.accounts} account(s)")
    print(f"  managers:   {', '.join(view.managers) or '-'}")
    if view.decided_at is not None:
        print(f"  decided:    {_when(view.decided_at)} by {view.decided_by}")
    if view.reason:
        print(f"  reason:     {view.reason}")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``company ACTION``; returns the exit code."""
    from bot.runtime import build_runtime

    request_id = f"cli-company-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            if args.action == "list":
                views = await corporate.list_companies(session, pending=args.pending)
            elif args.action == "show":
                views = [await corporate.show_company(session, args.id)]
            elif args.action == "approve":
                decision = await corporate.approve(
                    session, runtime.cipher, args.id, actor=ACTOR, via="cli", request_id=request_id
                )
            else:
                decision = await corporate.reject(
                    session,
                    runtime.cipher,
                    args.id,
                    reason=args.reason,
                    domain=args.domain,
                    actor=ACTOR,
                    via="cli",
                    request_id=request_id,
                )
    except admin.AdminError as exc:
        print(f"cla-bot company {args.action}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    if args.action == "list":
        if args.json:
            print(json.dumps([v.as_summary() for v in views], indent=2, ensure_ascii=False))
        elif not views:
            print("no companies awaiting a decision" if args.pending else "no companies")
        else:
            print(f"{'ID':>6}  {'STATUS':<9} {'SIGNED':<21} NAME — DOMAINS")
            for v in views:
                print(f"{v.id:>6}  {v.status:<9} {_when(v.signed_at):<21} {v.name} — {_domains(v)}")
        return 0
    if args.action == "show":
        if args.json:
            print(json.dumps(views[0].as_dict(), indent=2, ensure_ascii=False))
        else:
            _print_show(views[0])
        return 0
    view = decision.company
    if not decision.changed:
        print(f"company {view.id} ({view.name}) is {view.status} already: nothing changed")
        return 0
    for domain in decision.refused:
        print(
            f"refused {domain}: " + next(d.reason or "" for d in view.domains if d.domain == domain)
        )
    what = f"domain {args.domain} of " if args.action == "reject" and args.domain else ""
    print(
        f"{what}company {view.id} ({view.name}) is now "
        f"{'rejected' if what else view.status}; {decision.rechecks} PR re-check(s) queued"
    )
    return 0
