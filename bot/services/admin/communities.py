"""Communities and their links, managed through the admin API and the CLI.

Communities and links that app.yaml declares are the file's: they are shown with
``"source": "file"`` and refused here (:class:`Conflict`, saying to edit app.yaml), since the
next start would put them back. Those made here or in the console have ``"source":
"console"``. A community is deleted only while it has no agreements (its signatures belong to
them). Every change is written to the audit trail with its actor, and a link added or removed
queues a check of the open PRs of the repositories it covers: a PR that had "no CLA
configured" gets a real check, one that moves to another community is checked there.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.communities import COMMUNITY_ID, RESERVED_IDS
from bot.core.communities import parse_scope
from bot.services import audit
from bot.services.admin.common import NAME_RE, AdminError, Invalid, NotFound
from bot.services.checks.links import LINKS_CHANGED
from bot.services.rechecks import enqueue_checks
from bot.storage import communities as stored
from bot.storage.models import AgreementRow, CommunityLink, CommunitySource, PrCheck

COMMUNITY_ACTIONS = audit.COMMUNITY_ACTIONS
MAX_NAME = 255
TRIGGER = LINKS_CHANGED  # the re-checks' trigger: they read the links again first


class Conflict(AdminError):
    """The change contradicts what is there: a community or link app.yaml owns, an id or a
    scope taken already, a community that still has agreements."""

    status = 409


def _file_owned(what: str) -> Conflict:
    return Conflict(f"{what} is declared in app.yaml; change it there (the file wins at start)")


def check_id(community_id: str) -> str:
    """A new community's id: app.yaml's rules (a lower-case slug, not a signing page path)."""
    if not isinstance(community_id, str) or not COMMUNITY_ID.fullmatch(community_id):
        raise Invalid(
            "the community id must be 1 to 63 lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    if community_id in RESERVED_IDS:
        raise Invalid(f"{community_id!r} is reserved for the signing pages; choose another id")
    return community_id


def check_name(name: object) -> str:
    if not isinstance(name, str):
        raise Invalid("the name must be a string")
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise Invalid(f"the name must be 1 to {MAX_NAME} printable characters")
    return name


def parse_link_scope(text: object, forges: Collection[str]) -> tuple[str, str, str | None]:
    """``forge:owner`` or ``forge:owner/repo`` with a forge of ``forges`` and valid names."""
    if not isinstance(text, str) or len(text) > 300:
        raise Invalid("the scope must be a string like forge:owner or forge:owner/repo")
    try:
        forge, owner, repo = parse_scope(text)
    except ValueError as exc:
        raise Invalid(f"not a link scope: {exc}") from None
    if forge not in forges:
        raise Invalid(f"unknown forge {forge!r}; known: {', '.join(sorted(forges))}")
    for part in (owner, repo):
        if part is not None and (not NAME_RE.fullmatch(part) or part.strip(".") == ""):
            raise Invalid(f"{part!r} is not a valid owner or repository name")
    return forge, owner.lower(), repo.lower() if repo is not None else None


async def _audit(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    via: str,
    request_id: str,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session, action=action, actor=actor, via=via, request_id=request_id, details=details
    )


async def _view(session: AsyncSession, row: Any) -> dict[str, Any]:
    links = await stored.list_links(session, community=row.id)
    agreements = (
        await session.scalars(
            select(AgreementRow.id)
            .where(AgreementRow.community_id == row.id)
            .order_by(AgreementRow.id)
        )
    ).all()
    return {
        "id": row.id,
        "name": row.name,
        "source": str(CommunitySource(row.source)),
        "links": [{"scope": link.scope, "source": str(link.source)} for link in links],
        "agreements": list(agreements),
    }


async def _require(session: AsyncSession, community_id: str) -> Any:
    if not isinstance(community_id, str) or not COMMUNITY_ID.fullmatch(community_id):
        raise NotFound("unknown community")
    row = await stored.get_community(session, community_id)
    if row is None:
        raise NotFound(f"there is no community {community_id!r}")
    return row


async def list_communities(session: AsyncSession) -> list[dict[str, Any]]:
    """Every community by id: its name, source, links (with theirs) and agreement ids."""
    return [await _view(session, row) for row in await stored.list_communities(session)]


async def show_community(session: AsyncSession, community_id: str) -> dict[str, Any]:
    return await _view(session, await _require(session, community_id))


async def create_community(
    session: AsyncSession,
    *,
    community_id: str,
    name: object,
    actor: str,
    via: str,
    request_id: str,
) -> dict[str, Any]:
    """A new community without links or agreements (source ``console``)."""
    check_id(community_id)
    clean = check_name(name)
    try:
        row = await stored.add_community(session, community_id, clean)
    except stored.CommunityExists as exc:
        raise Conflict(str(exc)) from None
    await _audit(
        session,
        "community-create",
        actor=actor,
        via=via,
        request_id=request_id,
        details={"community": community_id},
    )
    return await _view(session, row)


async def rename_community(
    session: AsyncSession,
    community_id: str,
    *,
    name: object,
    actor: str,
    via: str,
    request_id: str,
) -> dict[str, Any]:
    """A console-made community's new name (the same name again changes nothing)."""
    row = await _require(session, community_id)
    clean = check_name(name)
    if row.source == CommunitySource.FILE:
        raise _file_owned(f"the community {community_id!r}")
    if row.name != clean:
        row.name = clean
        await session.flush()
        await _audit(
            session,
            "community-rename",
            actor=actor,
            via=via,
            request_id=request_id,
            details={"community": community_id},
        )
    return await _view(session, row)


async def delete_community(
    session: AsyncSession, community_id: str, *, actor: str, via: str, request_id: str
) -> int:
    """Delete a console-made community that has no agreements, with its links; the number of
    PR checks queued for the repositories those links covered."""
    row = await _require(session, community_id)
    if row.source == CommunitySource.FILE:
        raise _file_owned(f"the community {community_id!r}")
    view = await _view(session, row)
    if view["agreements"]:
        raise Conflict(
            f"the community {community_id!r} has agreements ({', '.join(view['agreements'])}) "
            "and their signatures; it cannot be deleted"
        )
    links = await stored.list_links(session, community=community_id)
    for link_row in (
        await session.scalars(
            select(CommunityLink).where(CommunityLink.community_id == community_id)
        )
    ).all():
        await session.delete(link_row)
    await session.flush()
    await session.delete(row)
    await session.flush()
    queued = 0
    for link in links:
        queued += await _recheck(session, link.platform, link.owner, link.repo)
    await _audit(
        session,
        "community-delete",
        actor=actor,
        via=via,
        request_id=request_id,
        details={"community": community_id, "links": [link.scope for link in links]},
    )
    return queued


async def add_link(
    session: AsyncSession,
    community_id: str,
    scope: object,
    *,
    forges: Collection[str],
    actor: str,
    via: str,
    request_id: str,
) -> tuple[dict[str, Any], int]:
    """Link a scope (``github:acme``, ``gitee:acme/widgets``) to the community; its view and
    the number of PR checks queued. A scope linked already, here or in app.yaml, is refused."""
    await _require(session, community_id)
    platform, owner, repo = parse_link_scope(scope, forges)
    try:
        link = await stored.add_link(session, community_id, platform, owner, repo)
    except stored.LinkConflict as exc:
        raise Conflict(str(exc)) from None
    queued = await _recheck(session, platform, owner, repo)
    await _audit(
        session,
        "community-link",
        actor=actor,
        via=via,
        request_id=request_id,
        details={"community": community_id, "scope": link.scope, "rechecks": queued},
    )
    return await show_community(session, community_id), queued


async def remove_link(
    session: AsyncSession,
    community_id: str,
    scope: object,
    *,
    forges: Collection[str],
    actor: str,
    via: str,
    request_id: str,
) -> tuple[dict[str, Any], int]:
    """Remove a console-made link of the community; its view and the PR checks queued."""
    await _require(session, community_id)
    platform, owner, repo = parse_link_scope(scope, forges)
    shown = stored.scope_text(platform, owner, repo)
    held = [
        link
        for link in await stored.list_links(session, community=community_id)
        if (link.platform, link.owner, link.repo) == (platform, owner, repo)
    ]
    if not held:
        raise NotFound(f"{shown} is not linked to the community {community_id!r}")
    if held[0].source == CommunitySource.FILE:
        raise _file_owned(f"the link {shown}")
    await stored.remove_link(session, platform, owner, repo)
    queued = await _recheck(session, platform, owner, repo)
    await _audit(
        session,
        "community-unlink",
        actor=actor,
        via=via,
        request_id=request_id,
        details={"community": community_id, "scope": shown, "rechecks": queued},
    )
    return await show_community(session, community_id), queued


async def open_checks_of_scope(
    session: AsyncSession, platform: str, owner: str, repo: str | None
) -> list[PrCheck]:
    """The open PRs whose community a link of this scope decides: the repository's, or every
    repository of the owner's but those with a link of their own (a repository's link wins)."""
    name = func.lower(PrCheck.repo_full_name)
    query = select(PrCheck).where(PrCheck.platform == platform, PrCheck.state == "open")
    if repo is not None:
        query = query.where(name == f"{owner}/{repo}")
    else:
        query = query.where(name.startswith(f"{owner}/", autoescape=True))
    checks = list((await session.scalars(query.order_by(PrCheck.id))).all())
    if repo is not None:
        return checks
    own = {
        link.repo
        for link in await stored.list_links(session)
        if link.platform == platform and link.owner == owner and link.repo is not None
    }
    return [c for c in checks if c.repo_full_name.lower().partition("/")[2] not in own]


async def _recheck(session: AsyncSession, platform: str, owner: str, repo: str | None) -> int:
    checks = await open_checks_of_scope(session, platform, owner, repo)
    return await enqueue_checks(session, checks, TRIGGER)
