"""Which of this bot's agreement versions each app-cla-server link's signings become:
``--link LINK_ID[=AGREEMENT[:VERSION]]``, given once or more per link.

A link (one community's CLAs there) holds individual and corporate signings. ``AGREEMENT``
names the agreement of app.yaml that one kind of them goes to — its ``kind`` (individual or
corporate) says which — and ``VERSION`` the version, needed only when the agreement has several.
A kind no ``--link`` names goes to the default agreement of that kind: the required agreement
for individual signings, the only corporate agreement for corporate ones. When there is none
(or no single one), that kind of row cannot be mapped, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import BotError
from bot.settings import AgreementSettings, Policy

KINDS = ("individual", "corporate")
LINK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class LinkError(BotError, ValueError):
    """A ``--link`` that names no link, agreement or version of app.yaml; nothing is read."""


@dataclass(frozen=True, slots=True)
class Target:
    """One of this bot's agreement versions, and the languages it has a text in: ``en`` (the
    text that is signed) and its translations."""

    agreement_id: str
    version: str
    languages: frozenset[str]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.version}"


@dataclass(frozen=True, slots=True)
class LinkMap:
    """Where one link's signings go; a string says why that kind has nowhere to go."""

    link_id: str
    individual: Target | str
    corporate: Target | str

    def target(self, kind: str) -> Target | str:
        return self.individual if kind == "individual" else self.corporate


def _target(agreement: AgreementSettings, version: str | None, link_id: str) -> Target | str:
    """The version asked for (or the only one), or why there is none to choose."""
    known = [v.version for v in agreement.versions]
    if version is None and len(known) > 1:
        return (
            f"agreement {agreement.agreement_id} has several versions ({', '.join(known)}): "
            f"name the one, as --link {link_id}={agreement.agreement_id}:VERSION"
        )
    for v in agreement.versions:
        if version is None or v.version == version:
            return Target(agreement.agreement_id, v.version, frozenset({"en", *v.translations}))
    return (
        f"agreement {agreement.agreement_id} has no version {version!r} in app.yaml "
        f"(it has: {', '.join(known)})"
    )


def _default(policy: Policy, kind: str, link_id: str) -> Target | str:
    required = policy.agreement(policy.required_agreement)
    if kind == "individual" and required.kind == "individual":
        candidates = [required]
    else:
        candidates = [a for a in policy.agreements if a.kind == kind]
    if not candidates:
        return f"app.yaml has no {kind} agreement"
    if len(candidates) > 1:
        names = ", ".join(a.agreement_id for a in candidates)
        return (
            f"app.yaml has several {kind} agreements ({names}): name one, as "
            f"--link {link_id}=AGREEMENT"
        )
    return _target(candidates[0], None, link_id)


def parse_links(values: Sequence[str], policy: Policy) -> dict[str, LinkMap]:
    """Each ``--link`` value read against app.yaml; raises :class:`LinkError`."""
    named: dict[str, dict[str, Target]] = {}
    for value in values:
        link_id, eq, spec = value.strip().partition("=")
        link_id = link_id.strip()
        if not LINK_ID.fullmatch(link_id):
            raise LinkError(f"--link {value!r}: expected LINK_ID[=AGREEMENT[:VERSION]]")
        kinds = named.setdefault(link_id, {})
        if not eq:
            continue
        agreement_id, colon, version = spec.strip().partition(":")
        try:
            agreement = policy.agreement(agreement_id.strip())
        except KeyError:
            known = ", ".join(a.agreement_id for a in policy.agreements)
            raise LinkError(
                f"--link {link_id}: app.yaml has no agreement {agreement_id.strip()!r} "
                f"(it has: {known})"
            ) from None
        target = _target(agreement, version.strip() if colon else None, link_id)
        if isinstance(target, str):
            raise LinkError(f"--link {link_id}: {target}")
        if kinds.get(agreement.kind, target) != target:
            raise LinkError(
                f"--link {link_id}: its {agreement.kind} signings are mapped twice, to "
                f"{kinds[agreement.kind]} and to {target}"
            )
        kinds[agreement.kind] = target
    return {
        link_id: LinkMap(
            link_id,
            individual=kinds.get("individual") or _default(policy, "individual", link_id),
            corporate=kinds.get("corporate") or _default(policy, "corporate", link_id),
        )
        for link_id, kinds in named.items()
    }
