"""``cla-bot communities``: list, create, rename and delete communities, and link or unlink the
owners and repositories they cover — the admin API's rules and audit, as the operator.

Communities and links app.yaml declares are listed with source ``file`` and refused here
(edit app.yaml); those made here, in the console or through the API have source ``console``.
A refused request exits 1 with one line (:mod:`bot.cli.failures`).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.cli.failures import reported
from bot.platforms import registry
from bot.services.admin import communities as community_admin
from bot.settings import Settings

COMMANDS = ("communities",)
ACTOR = "operator"


def add_parsers(sub: Any) -> None:
    """Add ``communities`` and its actions to ``cla-bot``'s subparsers."""
    top = sub.add_parser(
        "communities",
        help="list, create, rename and delete communities; link and unlink scopes",
        description="A community owns agreements, a policy and links that bind an owner (all "
        "its repositories) or one repository on a forge to it; a repository's own link wins "
        "over its owner's. Communities and links declared in app.yaml (source: file) are "
        "changed only there. Every change is audited and re-checks the open PRs it affects.",
    )
    actions = top.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser(
        "list",
        help="communities with their links and agreements",
        description="Id, name and source of every community, its links with theirs, and the "
        "ids of its agreements.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    create = actions.add_parser(
        "create",
        help="create a community without links or agreements",
        description="The id is a lower-case slug (letters, digits, '-'), not login, oauth or "
        "logout: it appears in signing page URLs.",
    )
    create.add_argument("id", help="the new community's id")
    create.add_argument("--name", required=True, help="its name as people see it")
    rename = actions.add_parser(
        "rename",
        help="rename a community made in the console",
        description="Rename a community made here, in the console or through the API.",
    )
    rename.add_argument("id", help="the community's id")
    rename.add_argument("--name", required=True, help="the new name")
    delete = actions.add_parser(
        "delete",
        help="delete a community made in the console, with its links",
        description="Only a community without agreements can be deleted (its signatures "
        "belong to them). The open PRs its links covered are re-checked.",
    )
    delete.add_argument("id", help="the community's id")
    link = actions.add_parser(
        "link",
        help="link an owner or a repository to a community",
        description="SCOPE is forge:owner (all its repositories) or forge:owner/repo, such as "
        "github:acme or gitee:acme/widgets. A scope already linked is refused. The open PRs "
        "it covers are re-checked.",
    )
    link.add_argument("id", help="the community's id")
    link.add_argument("scope", help="forge:owner or forge:owner/repo")
    unlink = actions.add_parser(
        "unlink",
        help="remove a link made in the console",
        description="Remove a link of the community made here, in the console or through the "
        "API; the open PRs it covered are re-checked.",
    )
    unlink.add_argument("id", help="the community's id")
    unlink.add_argument("scope", help="forge:owner or forge:owner/repo")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``communities ACTION``; returns the exit code."""
    return await reported(f"communities {args.action}", _run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import build_runtime

    who = {
        "actor": ACTOR,
        "via": "cli",
        "request_id": f"cli-communities-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}",
    }
    forges = registry.NAMES
    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            if args.action == "list":
                views = await community_admin.list_communities(session)
                _print_list(views, as_json=args.json)
                return 0
            if args.action == "create":
                view = await community_admin.create_community(
                    session, community_id=args.id, name=args.name, **who
                )
                print(f"community {view['id']} ({view['name']}) created")
                return 0
            if args.action == "rename":
                view = await community_admin.rename_community(
                    session, args.id, name=args.name, **who
                )
                print(f"community {view['id']} is now named {view['name']}")
                return 0
            if args.action == "delete":
                queued = await community_admin.delete_community(session, args.id, **who)
                print(f"community {args.id} deleted; {queued} PR re-check(s) queued")
                return 0
            change = (
                community_admin.add_link if args.action == "link" else community_admin.remove_link
            )
            view, queued = await change(session, args.id, args.scope, forges=forges, **who)
            done = "linked to" if args.action == "link" else "unlinked from"
            print(f"{args.scope} {done} community {view['id']}; {queued} PR re-check(s) queued")
            return 0
    finally:
        await runtime.close()


def _print_list(views: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(views, indent=2, ensure_ascii=False))
        return
    if not views:
        print("no communities")
        return
    for view in views:
        agreements = ", ".join(view["agreements"]) or "no agreements"
        print(f"{view['id']} ({view['name']}, {view['source']}): {agreements}")
        for link in view["links"]:
            print(f"  {link['scope']} ({link['source']})")
        if not view["links"]:
            print("  no links")
