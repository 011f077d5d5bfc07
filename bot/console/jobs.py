"""``tick``: the background jobs, run once, on the console's runtime."""

from __future__ import annotations

from bot.console.session import ConsoleError, ConsoleSession


async def tick(session: ConsoleSession) -> None:
    raise ConsoleError("The background jobs are not in this build yet.")
