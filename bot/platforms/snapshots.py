"""PR snapshots in a forge's own API shape, as check jobs carried them before a core
``PullRequest`` crossed the queue: decoded here, in the platform layer, for every forge that
ever stored one.

Check jobs queued by earlier versions hold it in the database (routing now hands over a
``PullRequest``); ``bot.services.requests`` asks this module to turn one into a
``PullRequest`` and never reads a forge's dict itself. A forge
whose webhook body is not signed stores no snapshot, so it has no entry. (A hook on the
forge's adapter, ``bot.platforms.base.Forge``, is where this belongs once adapters carry one.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from bot.core.model import Platform, PullRequest
from bot.platforms.github.events import pull_request_from_api
from bot.platforms.github.facts import GITHUB
from bot.platforms.payload import PayloadError

Decoder = Callable[..., PullRequest]

DECODERS: Mapping[Platform, Decoder] = MappingProxyType({GITHUB: pull_request_from_api})


def pull_from_snapshot(
    platform: str, data: Mapping[str, Any], *, installation_id: int | None
) -> PullRequest:
    """``data``, a snapshot in ``platform``'s API shape, as a ``PullRequest``; raises
    :class:`PayloadError` when it is not one (or the forge never stored snapshots)."""
    decode = DECODERS.get(Platform(platform))
    if decode is None:
        raise PayloadError(f"{platform!r} stores no pull request snapshots")
    return decode(data, installation_id=installation_id)
