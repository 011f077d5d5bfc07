"""Drive `transition-bot console` as a person would: one line in, wait for the next prompt.

The console prints its prompt before reading a line (also on a pipe), so "the prompt is the
last thing printed" means the bot has answered. Waiting has a generous limit only to turn a
hang into a readable failure; nothing is timed.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

PROMPT = re.compile(r"([UW][A-Z0-9]+) in #([A-Z0-9]+)> $")
BUTTON = re.compile(r"\[(\d+)\] ([^\[\]]+?)(?=\s{2}|\s*\[\d+\]|$)")
WAIT_SECONDS = 90.0


class ConsoleProcess:
    """The console as a subprocess; its stdin and stdout are pipes, or one pseudo-terminal
    (``tty=True``: the console then styles with ANSI and reads with ``input``)."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        tty: bool = False,
    ) -> None:
        self.log = log
        self._stderr = log.open("wb")
        self._pty: int | None = None
        if tty:
            self._pty, terminal = pty.openpty()
            stdin: int = terminal
            stdout: int = terminal
        else:
            stdin = stdout = subprocess.PIPE
        self.proc = subprocess.Popen(
            list(args), stdin=stdin, stdout=stdout, stderr=self._stderr, env=dict(env), cwd=cwd
        )
        if tty:
            os.close(terminal)
        self.transcript: list[str] = []
        self.banner = self._read_until_prompt()

    def _out_fd(self) -> int:
        if self._pty is not None:
            return self._pty
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def _write(self, data: bytes) -> None:
        if self._pty is not None:
            os.write(self._pty, data)
            return
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _fail(self, why: str, seen: str) -> AssertionError:
        errors = self.log.read_text(errors="replace")[-3000:]
        history = "".join(self.transcript)[-3000:]
        return AssertionError(f"{why}\n--- output ---\n{history}{seen}\n--- stderr ---\n{errors}")

    def _read_until_prompt(self) -> str:
        fd = self._out_fd()
        buffer = b""
        deadline = time.monotonic() + WAIT_SECONDS
        while not PROMPT.search(buffer.decode(errors="replace")):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            if not ready:
                raise self._fail(f"no prompt within {WAIT_SECONDS:.0f}s", buffer.decode())
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pseudo-terminal whose other side has closed
                chunk = b""
            if not chunk:
                raise self._fail("the console exited", buffer.decode(errors="replace"))
            buffer += chunk
        text = buffer.decode().replace("\r\n", "\n")
        self.transcript.append(text)
        return PROMPT.sub("", text)

    def send(self, line: str) -> str:
        """Type ``line``; return what was printed in answer (without the echo and prompt)."""
        self._write((line + "\n").encode())
        out = self._read_until_prompt()
        echoed, _, rest = out.partition("\n")
        assert echoed == line, f"expected the echo of {line!r}, got {echoed!r}"
        return rest

    def quit(self) -> int:
        self._write(b"quit\n")
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=WAIT_SECONDS)
        self._close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        self._stderr.close()
        if self._pty is not None:
            os.close(self._pty)
            self._pty = None


def buttons(text: str) -> dict[str, list[int]]:
    """Every ``[N] Label`` printed in ``text``: label -> numbers in order."""
    found: dict[str, list[int]] = {}
    for match in BUTTON.finditer(text):
        found.setdefault(match.group(2).strip(), []).append(int(match.group(1)))
    return found


def button_after(text: str, anchor: str, label: str) -> int:
    """The number of the first ``[N] label`` printed at or after the line holding ``anchor``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if anchor in line), None)
    if start is None:
        raise AssertionError(f"{anchor!r} not printed:\n{text}")
    for line in lines[start:]:
        numbers = buttons(line).get(label)
        if numbers:
            return numbers[0]
    raise AssertionError(f"no [N] {label} after {anchor!r}:\n{text}")
