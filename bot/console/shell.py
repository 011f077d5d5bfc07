"""The prompt: read a line, tell the session what to do. No bot logic lives here.

Works on a terminal (line editing through ``input``) and on a pipe (lines from stdin, each
echoed after the prompt so the transcript reads like a session).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.console.payloads import CHANNEL_ID, USER_ID
from bot.console.session import ConsoleError, ConsoleSession

HELP = """\
/transition …     a slash command, sent as Slack would (try `/transition help`)
click N           press button [N] of the last message with buttons (or `click Done`)
messages [N]      show the N (default 5) newest messages with buttons again, for `click`
pick N VALUE      choose VALUE in menu [N] (an option, a user id like U123, a date…)
submit a=b c="d"  submit the open modal; fields not given keep their value
close             close the open modal
as U123           act as another user (approvals need two people)
channel C123      move to another channel (one tenant per channel)
home              open the bot's App Home tab
tick              run the background jobs once (polls, reminders, announcements)
help              this list
quit              leave (state stays in the database)"""


MESSAGES_SHOWN = 5  # what `messages` shows without a number

ReadLine = Callable[[str], Awaitable[str | None]]
Tick = Callable[[ConsoleSession], Awaitable[None]]


def make_emit(stream: TextIO) -> Callable[[str], None]:
    """A thread-safe printer (the local Web API prints from its own thread)."""
    lock = threading.Lock()

    def emit(text: str) -> None:
        with lock:
            stream.write(text + "\n")
            stream.flush()

    return emit


def make_reader(stream: TextIO, out: TextIO, *, interactive: bool) -> ReadLine:
    """Read one line without blocking the event loop; ``None`` at end of input."""

    def read_tty(prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:  # Ctrl-D
            out.write("\n")
            return None

    def read_pipe(prompt: str) -> str | None:
        out.write(prompt)  # before reading, so a driving program can wait for it
        out.flush()
        line = stream.readline()
        out.write(line if line.endswith("\n") else line + "\n")  # the transcript shows it
        out.flush()
        return line.rstrip("\n") if line else None

    if interactive:
        with contextlib.suppress(ImportError):  # line editing and history where available
            import readline  # noqa: F401
    reader = read_tty if interactive else read_pipe

    async def read(prompt: str) -> str | None:
        # A daemon thread, not the loop's executor: a read still blocked at Ctrl-C or at exit
        # must not keep the process waiting for one more line.
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            if not future.done():
                future.set_result(line)

        def work() -> None:
            line = reader(prompt)
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody waits
                loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=work, name="console-input", daemon=True).start()
        return await future

    return read


def parse_assignments(text: str) -> dict[str, str]:
    """``name="Contoso Ltd" domains=contoso.com`` -> ``{"name": "Contoso Ltd", ...}``."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ConsoleError(f"Could not read that ({exc}); quote values with spaces.") from None
    typed: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not name:
            raise ConsoleError(f"{word!r}: write field=value (e.g. submit name=Contoso).")
        typed[name] = value
    return typed


class Shell:
    def __init__(
        self,
        session: ConsoleSession,
        read: ReadLine,
        *,
        tick: Tick | None = None,
    ) -> None:
        self.session = session
        self.read = read
        self.tick = tick
        self.emit = session.emit

    @property
    def prompt(self) -> str:
        actor = self.session.actor
        return f"{actor.user_id} in #{actor.channel_id}> "

    async def run(self) -> int:
        self.emit("transition-bot console: type `help` for commands, `quit` to leave.")
        while True:
            line = await self.read(self.prompt)
            if line is None:
                return 0
            try:
                if not await self.handle(line.strip()):
                    return 0
            except ConsoleError as exc:
                self.emit(str(exc))

    async def handle(self, line: str) -> bool:
        """Do what ``line`` says; False to leave."""
        if not line or line.startswith("#"):
            return True
        if line.startswith("/"):
            await self.session.command(line)
            return True
        word, _, rest = line.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in ("quit", "exit"):
            return False
        if word in ("help", "?"):
            self.emit(HELP)
        elif word == "click":
            if not rest:
                raise ConsoleError("Which button? e.g. `click 1`.")
            await self.session.click(rest)
        elif word == "messages":
            self.session.messages(self._count(rest))
        elif word == "pick":
            which, _, chosen = rest.partition(" ")
            if not which or not chosen.strip():
                raise ConsoleError("Which menu, and what? e.g. `pick 2 U123`.")
            await self.session.pick(which, chosen.strip())
        elif word == "submit":
            await self.session.submit(parse_assignments(rest))
        elif word == "close":
            await self.session.close()
        elif word == "as":
            self.session.act_as(self._match(USER_ID, rest, "a user id like U123"))
        elif word == "channel":
            self.session.move_to(self._match(CHANNEL_ID, rest, "a channel id like C123"))
        elif word == "home":
            await self.session.home()
        elif word == "tick":
            await self._tick()
        else:
            raise ConsoleError(f"Unknown command {word!r}; type `help`.")
        return True

    @staticmethod
    def _count(text: str) -> int:
        if not text:
            return MESSAGES_SHOWN
        if not text.isdigit() or int(text) == 0:
            raise ConsoleError(f"{text!r} is not a number of messages; e.g. `messages 3`.")
        return int(text)

    @staticmethod
    def _match(pattern: re.Pattern[str], text: str, what: str) -> str:
        match = pattern.match(text.strip())
        if match is None:
            raise ConsoleError(f"{text!r} is not {what}.")
        return match.group(1)

    async def _tick(self) -> None:
        if self.tick is None:
            raise ConsoleError("No background jobs are available in this build.")
        await self.tick(self.session)
        await self.session.settle()


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()
