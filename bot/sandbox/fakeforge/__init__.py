"""The one fake forge of the project, shared by the sandbox, the tests and the benchmarks.

:class:`FakeForgeClient` is a :class:`~bot.platforms.base.ForgeClient` in memory: pull
requests, commits, comments, labels, statuses, permissions and users are seeded through typed
methods, reads answer from that state, writes change it, and every call is recorded as a
:class:`Call`, so a test asserts the exact writes a service made and a benchmark measures the
bot's own work with a forge that answers at once.
"""

from bot.sandbox.fakeforge.client import WRITES, Call, FakeForgeClient, Status

__all__ = ["WRITES", "Call", "FakeForgeClient", "Status"]
