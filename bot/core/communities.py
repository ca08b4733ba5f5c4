"""Communities: which community's agreements and policy apply to a repository.

A deployment serves several communities; each owns agreements, a policy and links that bind
forge scopes (an owner with all its repositories, or one repository) to it."""

from __future__ import annotations

# The community a file with only a ``cla:`` section describes, and the one existing data
# migrates into.
DEFAULT_COMMUNITY = "default"
