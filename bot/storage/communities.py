"""Communities and their links, as stored. Two sources write them: app.yaml, synced at start-up
(:func:`sync_file_communities`: the file's rows and links are made to match it, source
``file``), and the maintainers' console or API (:func:`add_community`, :func:`add_link`,
:func:`remove_link`, source ``console``). Neither overwrites the other: a file sync never
touches a console-made row, the console never removes a link the file declares (the next sync
would bring it back), and a scope that both bind to different communities is an error naming
both, so the disagreement is seen and settled by a person rather than won silently.

A link's scope is (platform, owner, repository): an empty repository means every repository of
the owner. Owners and repositories are stored lower-cased. Every function takes a session and
never commits: the caller owns the unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY, Link, Scope
from bot.core.errors import BotError
from bot.storage.models import CommunityLink, CommunityRow, CommunitySource

DEFAULT_NAME = "Default"  # the default community's name until the file gives it one

# (id, name, its links' scopes (platform, owner, repository or None for all the owner's
# repositories)): one community as app.yaml declares it.
FileCommunity = tuple[str, str, Sequence[Scope]]


class CommunityError(BotError):
    """A community or link cannot be stored as asked; the message says why and what to do."""


class UnknownCommunity(CommunityError):
    def __init__(self, community: str) -> None:
        super().__init__(f"there is no community {community!r}")
        self.community = community


class CommunityExists(CommunityError):
    def __init__(self, community: str, source: str) -> None:
        where = "app.yaml" if source == CommunitySource.FILE else "the console"
        super().__init__(f"the community {community!r} exists already (made in {where})")
        self.community = community
        self.source = source


class LinkConflict(CommunityError):
    """A scope that two declarations bind to different communities (or a link that exists
    already): which scope, and where each binding comes from."""

    def __init__(self, scope: str, first: str, second: str) -> None:
        super().__init__(f"{scope} is linked to {first} and to {second}; remove one of them")
        self.scope = scope
        self.first = first
        self.second = second


class FileLink(CommunityError):
    """The console may not remove a link that app.yaml declares: the next start would bring
    it back. It is removed by removing it from the file."""

    def __init__(self, scope: str, community: str) -> None:
        super().__init__(
            f"{scope} is linked to community {community!r} by app.yaml; remove the link there"
        )
        self.scope = scope
        self.community = community


@dataclass(frozen=True, slots=True)
class StoredLink:
    community: str
    platform: str
    owner: str  # lower-cased
    repo: str | None  # lower-cased; None: every repository of the owner
    source: CommunitySource

    @property
    def scope(self) -> str:
        return scope_text(self.platform, self.owner, self.repo)

    def link(self) -> Link:
        """The link as the core resolves it (``LinkTable``)."""
        return Link(self.platform, self.owner, self.repo, self.community)


@dataclass(frozen=True, slots=True)
class FileSync:
    """What a file sync changed: communities added and renamed, links added, moved to another
    community and removed (as scope texts), and the communities the file made earlier and no
    longer declares (kept, with their agreements and signatures, but without links)."""

    added: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    links_added: list[str] = field(default_factory=list)
    links_moved: list[str] = field(default_factory=list)
    links_removed: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)


def scope_text(platform: str, owner: str, repo: str | None) -> str:
    """``gitee:mindspore`` or ``github:acme/widgets``: how app.yaml and the console write it."""
    return f"{platform}:{owner}/{repo}" if repo else f"{platform}:{owner}"


def _key(scope: Scope) -> tuple[str, str, str]:
    """The stored form of a scope: owner and repository lower-cased, ``""`` for all."""
    platform, owner, repo = scope
    owner = owner.strip().lower()
    repo_key = (repo or "").strip().lower()
    if not platform or not owner or "/" in owner or "/" in repo_key:
        raise ValueError(f"not a link scope: {scope_text(platform, owner, repo)!r}")
    return platform, owner, repo_key


def _link(row: CommunityLink) -> StoredLink:
    return StoredLink(
        community=row.community_id,
        platform=row.platform,
        owner=row.owner,
        repo=row.repo or None,
        source=CommunitySource(row.source),
    )


def _held(row: CommunityLink) -> str:
    where = "app.yaml" if row.source == CommunitySource.FILE else "the console"
    return f"community {row.community_id!r} (in {where})"


SYNC_LOCK_ID = 0x636C61  # advisory lock: storing app.yaml's communities and agreements at start-up


async def lock_file_sync(session: AsyncSession) -> None:
    """Replicas starting together must not race to store the same rows: on PostgreSQL, wait
    for the others' start-up transaction (held until this transaction ends; taking it again in
    the same transaction is free)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_ID})


async def get_community(session: AsyncSession, community: str) -> CommunityRow | None:
    return await session.get(CommunityRow, community)


async def require_community(session: AsyncSession, community: str) -> CommunityRow:
    """The community's row. The default community is always there (the migration made it; a
    database emptied since gets it back, as the file community a ``cla:`` section describes);
    any other must have been stored first (:class:`UnknownCommunity`)."""
    row = await get_community(session, community)
    if row is not None:
        return row
    if community != DEFAULT_COMMUNITY:
        raise UnknownCommunity(community)
    row = CommunityRow(id=community, name=DEFAULT_NAME, source=CommunitySource.FILE)
    session.add(row)
    await session.flush()
    return row


async def list_communities(session: AsyncSession) -> list[CommunityRow]:
    """Every community, by id."""
    return list((await session.scalars(select(CommunityRow).order_by(CommunityRow.id))).all())


async def list_links(session: AsyncSession, *, community: str | None = None) -> list[StoredLink]:
    """Every link (or one community's), by platform, owner and repository."""
    query = select(CommunityLink).order_by(
        CommunityLink.platform, CommunityLink.owner, CommunityLink.repo
    )
    if community is not None:
        query = query.where(CommunityLink.community_id == community)
    return [_link(row) for row in (await session.scalars(query)).all()]


async def _link_row(session: AsyncSession, key: tuple[str, str, str]) -> CommunityLink | None:
    platform, owner, repo = key
    return (
        await session.scalars(
            select(CommunityLink).where(
                CommunityLink.platform == platform,
                CommunityLink.owner == owner,
                CommunityLink.repo == repo,
            )
        )
    ).first()


async def sync_file_communities(
    session: AsyncSession, communities: Iterable[FileCommunity]
) -> FileSync:
    """Make the file's communities and links match app.yaml: its communities are added or
    renamed, its links added, moved or removed; console-made communities and links are not
    touched. A community id the console made, a scope two file communities declare, or a file
    link whose scope a console link binds to another community raises (nothing is written
    then: the caller's transaction is rolled back). A file link that a console link already
    binds to the same community is already in force and is left as the console made it.
    Communities the file no longer declares are kept (their agreements and signatures stay)
    but lose their file links."""
    await lock_file_sync(session)
    declared = list(communities)
    result = FileSync()
    rows = {row.id: row for row in await list_communities(session)}
    wanted: dict[tuple[str, str, str], str] = {}
    for community_id, _, scopes in declared:
        row = rows.get(community_id)
        if row is not None and row.source != CommunitySource.FILE:
            raise CommunityExists(community_id, row.source)
        for scope in scopes:
            key = _key(scope)
            other = wanted.setdefault(key, community_id)
            if other != community_id:
                raise LinkConflict(
                    scope_text(*scope),
                    f"community {other!r} (in app.yaml)",
                    f"community {community_id!r} (in app.yaml)",
                )
    for community_id, name, _ in declared:
        row = rows.get(community_id)
        if row is None:
            session.add(CommunityRow(id=community_id, name=name, source=CommunitySource.FILE))
            result.added.append(community_id)
        elif row.name != name:
            row.name = name
            result.renamed.append(community_id)
    await session.flush()

    existing = {
        (r.platform, r.owner, r.repo): r for r in (await session.scalars(select(CommunityLink)))
    }
    for key, community_id in wanted.items():
        held = existing.get(key)
        shown = scope_text(key[0], key[1], key[2] or None)
        if held is None:
            session.add(
                CommunityLink(
                    community_id=community_id,
                    platform=key[0],
                    owner=key[1],
                    repo=key[2],
                    source=CommunitySource.FILE,
                )
            )
            result.links_added.append(shown)
        elif held.source != CommunitySource.FILE:
            if held.community_id != community_id:
                raise LinkConflict(shown, f"community {community_id!r} (in app.yaml)", _held(held))
        elif held.community_id != community_id:
            held.community_id = community_id
            result.links_moved.append(shown)
    for key, held in existing.items():
        if held.source == CommunitySource.FILE and key not in wanted:
            await session.delete(held)
            result.links_removed.append(scope_text(key[0], key[1], key[2] or None))
    ids = {community_id for community_id, _, _ in declared}
    result.undeclared.extend(
        r.id for r in rows.values() if r.source == CommunitySource.FILE and r.id not in ids
    )
    await session.flush()
    return result


async def add_community(session: AsyncSession, community: str, name: str) -> CommunityRow:
    """A community made in the console (the file sync never touches it)."""
    row = await get_community(session, community)
    if row is not None:
        raise CommunityExists(community, row.source)
    row = CommunityRow(id=community, name=name, source=CommunitySource.CONSOLE)
    session.add(row)
    await session.flush()
    return row


async def add_link(
    session: AsyncSession, community: str, platform: str, owner: str, repo: str | None = None
) -> StoredLink:
    """Link a scope to a community from the console. A scope belongs to one community: one
    that is linked already (from either source) is refused, naming where it is held."""
    key = _key((platform, owner, repo))
    if await get_community(session, community) is None:
        raise UnknownCommunity(community)
    held = await _link_row(session, key)
    if held is not None:
        raise LinkConflict(
            scope_text(key[0], key[1], key[2] or None),
            _held(held),
            f"community {community!r} (asked in the console)",
        )
    row = CommunityLink(
        community_id=community,
        platform=key[0],
        owner=key[1],
        repo=key[2],
        source=CommunitySource.CONSOLE,
    )
    session.add(row)
    await session.flush()
    return _link(row)


async def remove_link(
    session: AsyncSession, platform: str, owner: str, repo: str | None = None
) -> StoredLink | None:
    """Remove a console-made link; the link removed, or ``None`` when the scope has none. A
    link app.yaml declares is refused (:class:`FileLink`)."""
    key = _key((platform, owner, repo))
    held = await _link_row(session, key)
    if held is None:
        return None
    if held.source == CommunitySource.FILE:
        raise FileLink(scope_text(key[0], key[1], key[2] or None), held.community_id)
    removed = _link(held)
    await session.delete(held)
    await session.flush()
    return removed
