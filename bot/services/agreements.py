"""Published agreement texts: what is published, and replacing the text of a version nobody
has signed.

A published version's text never changes under the same version: a signature records the text's
SHA-256, and a community must be able to show what each person agreed to. Before anyone signs,
though, a version is only a draft that happens to be published (the first ``make run``
publishes the stock text), so its text may be replaced — never once a person or a company has
signed it, whatever happened to that signature since (erased and revoked signatures still
record which text was signed). Every replacement is written to the audit trail.

These functions return data and raise :class:`AgreementError` subclasses carrying fields; the
command line (``bot/cli/agreements.py``) and start-up (``bot/runtime.py``) turn them into words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.errors import BotError, SettingsError
from bot.services import audit
from bot.settings import AgreementSettings, VersionSettings
from bot.storage.agreements import AGREEMENT_OF_VERSION, version_row
from bot.storage.models import AgreementRow, AgreementVersionRow, Company, Signature

SAME, CHANGED, UNPUBLISHED, GONE = "same text", "changed", "not published yet", "not in app.yaml"


def text_sha256(version: VersionSettings) -> str:
    return hashlib.sha256(version.text.encode("utf-8")).hexdigest()


# -- errors -------------------------------------------------------------------------------------


class AgreementError(BotError):
    """Refused; nothing was written."""


class UnknownAgreement(AgreementError):
    def __init__(self, agreement_id: str, known: Sequence[str]) -> None:
        super().__init__(f"app.yaml has no agreement {agreement_id!r} (it has: {', '.join(known)})")
        self.agreement_id = agreement_id
        self.known = tuple(known)


class UnknownVersion(AgreementError):
    def __init__(self, agreement_id: str, version: str, known: Sequence[str]) -> None:
        super().__init__(
            f"app.yaml has no version {version!r} of agreement {agreement_id!r} "
            f"(it has: {', '.join(known)})"
        )
        self.agreement_id = agreement_id
        self.version = version
        self.known = tuple(known)


class NotPublished(AgreementError):
    def __init__(self, agreement_id: str, version: str) -> None:
        super().__init__(
            f"agreement {agreement_id} version {version} is not published yet: the bot "
            "publishes app.yaml's text when it starts"
        )
        self.agreement_id = agreement_id
        self.version = version


class NothingToReplace(AgreementError):
    def __init__(self, agreement_id: str, version: str) -> None:
        super().__init__(
            f"agreement {agreement_id} version {version}: the published text is already the one "
            "in app.yaml; nothing to replace"
        )
        self.agreement_id = agreement_id
        self.version = version


def _counted(signatures: int, companies: int) -> str:
    return (
        f"{signatures} signature{'' if signatures == 1 else 's'} and "
        f"{companies} compan{'y' if companies == 1 else 'ies'}"
    )


class AlreadySigned(AgreementError):
    def __init__(self, agreement_id: str, version: str, signatures: int, companies: int) -> None:
        super().__init__(
            f"agreement {agreement_id} version {version} has {_counted(signatures, companies)}: "
            "a signed text never changes; publish the edit as a new version (start `cla-bot "
            "serve` to see the lines to add to app.yaml)"
        )
        self.agreement_id = agreement_id
        self.version = version
        self.signatures = signatures
        self.companies = companies


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionInfo:
    agreement_id: str
    kind: str
    version: str
    published_sha256: str | None  # None: in app.yaml, not published yet
    config_sha256: str | None  # None: no longer in app.yaml
    signatures: int  # individual signatures of this version, erased and revoked ones included
    companies: int  # corporate signatures of it

    @property
    def state(self) -> str:
        if self.published_sha256 is None:
            return UNPUBLISHED
        if self.config_sha256 is None:
            return GONE
        return SAME if self.published_sha256 == self.config_sha256 else CHANGED


async def signed_counts(session: AsyncSession, version_id: int) -> tuple[int, int]:
    """(signatures, companies) that ever signed this version."""
    signatures = await session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(Signature.agreement_version_id == version_id)
    )
    companies = await session.scalar(
        select(func.count()).select_from(Company).where(Company.agreement_version_id == version_id)
    )
    return int(signatures or 0), int(companies or 0)


async def list_versions(
    session: AsyncSession, agreements: Sequence[AgreementSettings]
) -> list[VersionInfo]:
    """Every published version (app.yaml's agreements first, in its order), then the versions
    app.yaml names that are not published yet."""
    configured = {a.agreement_id: a for a in agreements}
    order = {a.agreement_id: i for i, a in enumerate(agreements)}
    result = await session.execute(
        select(AgreementVersionRow, AgreementRow)
        .join(AgreementRow, AGREEMENT_OF_VERSION)
        .where(AgreementRow.community_id == DEFAULT_COMMUNITY)
    )
    rows = list(result.all())
    rows.sort(key=lambda r: (order.get(r[1].id, len(order)), r[1].id, r[0].position))
    found: list[VersionInfo] = []
    published: set[tuple[str, str]] = set()
    for vrow, agreement_row in rows:
        published.add((agreement_row.id, vrow.version))
        conf = configured.get(agreement_row.id)
        conf_version = (
            next((v for v in conf.versions if v.version == vrow.version), None) if conf else None
        )
        signatures, companies = await signed_counts(session, vrow.id)
        found.append(
            VersionInfo(
                agreement_id=agreement_row.id,
                kind=agreement_row.kind,
                version=vrow.version,
                published_sha256=vrow.text_sha256,
                config_sha256=text_sha256(conf_version) if conf_version else None,
                signatures=signatures,
                companies=companies,
            )
        )
    for a in agreements:
        for v in a.versions:
            if (a.agreement_id, v.version) not in published:
                found.append(
                    VersionInfo(a.agreement_id, a.kind, v.version, None, text_sha256(v), 0, 0)
                )
    return found


# -- replacing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replaced:
    agreement_id: str
    version: str
    old_sha256: str
    new_sha256: str


def _configured(
    agreements: Sequence[AgreementSettings], agreement_id: str, version: str
) -> VersionSettings:
    agreement = next((a for a in agreements if a.agreement_id == agreement_id), None)
    if agreement is None:
        raise UnknownAgreement(agreement_id, [a.agreement_id for a in agreements])
    found = next((v for v in agreement.versions if v.version == version), None)
    if found is None:
        raise UnknownVersion(agreement_id, version, [v.version for v in agreement.versions])
    return found


async def replace_text(
    session: AsyncSession,
    agreements: Sequence[AgreementSettings],
    agreement_id: str,
    version: str,
    *,
    actor: str,
    via: str,
    request_id: str = "",
) -> Replaced:
    """Publish app.yaml's current text under an existing version that nobody has signed."""
    configured = _configured(agreements, agreement_id, version)
    row = await version_row(session, agreement_id, version)
    if row is None:
        raise NotPublished(agreement_id, version)
    new = text_sha256(configured)
    if row.text_sha256 == new:
        raise NothingToReplace(agreement_id, version)
    signatures, companies = await signed_counts(session, row.id)
    if signatures or companies:
        raise AlreadySigned(agreement_id, version, signatures, companies)
    old = row.text_sha256
    row.text_sha256 = new
    await audit.record(
        session,
        action="agreement-replace",
        actor=actor,
        via=via,
        request_id=request_id,
        details={
            "agreement": agreement_id,
            "version": version,
            "old_sha256": old,
            "new_sha256": new,
        },
    )
    await session.flush()
    return Replaced(agreement_id, version, old, new)


# -- what start-up says -------------------------------------------------------------------------


def next_version(taken: Sequence[str]) -> str:
    """A version name after the last one: ``1.0`` → ``1.1``, ``2`` → ``3``, ``rc`` → ``rc.1``."""
    last = taken[-1]
    m = re.fullmatch(r"(.*?)(\d+)", last)
    step = 1
    while True:
        candidate = f"{m.group(1)}{int(m.group(2)) + step}" if m else f"{last}.{step}"
        if candidate not in taken:
            return candidate
        step += 1


def _new_text_path(text_path: str, old: str, new: str) -> str:
    head, sep, tail = text_path.rpartition(old)
    if sep:
        return f"{head}{new}{tail}"
    stem, dot, suffix = text_path.rpartition(".")
    return f"{stem}-{new}.{suffix}" if dot else f"{text_path}-{new}"


def changed_text_error(
    agreement: AgreementSettings,
    version: VersionSettings,
    *,
    old_sha256: str,
    new_sha256: str,
    signatures: int,
    companies: int,
) -> SettingsError:
    """The start-up error for a published text that changed: one line, then the exact lines to
    add to app.yaml, and the replace command when nobody has signed the version yet."""
    aid, v = agreement.agreement_id, version.version
    new_version = next_version([x.version for x in agreement.versions])
    new_path = _new_text_path(version.text_path, v, new_version)
    hint = [
        f"To publish the edit as a new version: save the edited text as {new_path}, put "
        f"version {v}'s published text back in {version.text_path}, and add under the "
        f"agreement {aid!r} `versions:` in app.yaml:",
        "",
        f'        - version: "{new_version}"',
        f"          text: {new_path}",
        "          compatibility: compatible   # or re-sign: earlier signatures stop counting",
        "          fields:",
        *(f"            {name}: {level}" for name, level in version.fields.items()),
        "",
    ]
    if signatures or companies:
        hint.append(
            f"Version {v} has {_counted(signatures, companies)}, so its text cannot be replaced."
        )
    else:
        hint.append(
            f"Nobody has signed version {v} yet: to publish the edited text under it instead, "
            f"run `cla-bot agreements replace {aid} {v}`."
        )
    return SettingsError(
        "app.yaml cla.agreements",
        f"the text of agreement {aid!r} version {v!r} ({version.text_path}) changed after it "
        f"was published (sha256 {old_sha256[:12]} -> {new_sha256[:12]}); a published "
        "text never changes: publish the edit as a new version",
        hint="\n".join(hint),
    )


async def changed_text_settings_error(
    session: AsyncSession,
    agreements: Sequence[AgreementSettings],
    *,
    agreement_id: str,
    version: str,
    old_sha256: str,
    new_sha256: str,
    community: str = DEFAULT_COMMUNITY,
) -> SettingsError:
    """:func:`changed_text_error`, with the version's signatures (in ``community``) counted."""
    configured = _configured(agreements, agreement_id, version)
    agreement = next(a for a in agreements if a.agreement_id == agreement_id)
    row = await version_row(session, agreement_id, version, community=community)
    signatures, companies = await signed_counts(session, row.id) if row else (0, 0)
    return changed_text_error(
        agreement,
        configured,
        old_sha256=old_sha256,
        new_sha256=new_sha256,
        signatures=signatures,
        companies=companies,
    )
