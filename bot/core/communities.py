"""Communities: which community's agreements and policy apply to a repository.

A deployment serves several communities; each owns agreements, a policy and links that bind
forge scopes (an owner with all its repositories, or one repository) to it."""

from __future__ import annotations

# The community a file with only a ``cla:`` section describes, and the one existing data
# migrates into.
DEFAULT_COMMUNITY = "default"


def sign_path(community: str, agreement: str) -> str:
    """The signing page of ``agreement`` in ``community``: ``/sign/<community>/<agreement>``,
    and ``/sign/<agreement>`` for the default community (the links posted before there were
    communities keep working)."""
    if community == DEFAULT_COMMUNITY:
        return f"/sign/{agreement}"
    return f"/sign/{community}/{agreement}"
