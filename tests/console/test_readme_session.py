"""README's example console session, replayed as written: README cannot drift from the bot.

The ```text block of "Try it without Slack" is read as a transcript: a ``$ transition-bot …``
line starts a console (in one working directory for all, so state and messages carry over),
a prompt line is what is typed, and every other line is output the console must print. A line
that is only ``…`` stands for any number of lines; ``…`` inside a line for any text. The lab
name server README names is BIND serving ``contoso.test`` as README describes it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.console.driver import PROMPT
from tests.entry.processes import bot_env, run
from tests.support.bind_fixtures import BindFactory
from tests.support.zones import make_zone, microsoft365_records

README = Path(__file__).resolve().parents[2] / "README.md"
PROMPT_LINE = re.compile(PROMPT.pattern.removesuffix("$") + r"(.*)$")
ELIDED = "…"
LAB_DOMAIN = "contoso.test"
LAB_RESOLVER = "127.0.0.1:5353"  # what README shows; the test's BIND is elsewhere


@dataclass
class Step:
    typed: str | None  # None: what a console prints before its first prompt
    shown: list[str] = field(default_factory=list)


@dataclass
class Session:
    argv: list[str]
    steps: list[Step]


def readme_sessions(text: str) -> list[Session]:
    section = text.split("## Try it without Slack", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    sessions: list[Session] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            sessions.append(Session(shlex.split(line[2:]), [Step(None)]))
        elif (prompt := PROMPT_LINE.match(line)) is not None:
            sessions[-1].steps.append(Step(prompt.group(3)))
        else:
            sessions[-1].steps[-1].shown.append(line)
    return sessions


def steps_of(output: str) -> list[Step]:
    """A console's stdout cut at each echoed input line."""
    steps = [Step(None)]
    for line in output.splitlines():
        prompt = PROMPT_LINE.match(line)
        if prompt is not None:
            steps.append(Step(prompt.group(3)))
        else:
            steps[-1].shown.append(line)
    return steps


def pattern(lines: list[str]) -> re.Pattern[str]:
    parts = []
    for line in lines:
        if line.strip() == ELIDED:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.rstrip().split(ELIDED)) + r"\n")
    return re.compile("".join(parts))


def matches(expected: list[str], shown: list[str]) -> bool:
    text = "".join(line.rstrip() + "\n" for line in shown)
    return pattern(expected).fullmatch(text) is not None


def with_lab(argv: list[str], resolver: str, port: int) -> list[str]:
    """README's command line with the test BIND in place of README's lab address."""
    out = list(argv)
    assert out[out.index("--nameserver") + 1] == LAB_RESOLVER
    assert out[out.index("--dns-port") + 1] == LAB_RESOLVER.rsplit(":", 1)[1]
    out[out.index("--nameserver") + 1] = resolver
    out[out.index("--dns-port") + 1] = str(port)
    return out


def test_the_parser_reads_elisions_and_prompts() -> None:
    assert matches(["a", ELIDED, "d"], ["a", "b", "c", "d"])
    assert matches(["a", ELIDED, "b"], ["a", "b"])
    assert matches(["x … z"], ["x y z"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a"], ["a", "b"])
    (session,) = readme_sessions(
        "## Try it without Slack\n```text\n$ transition-bot console\nhi\nU1 in #C1> tick\n"
        "(tick: …)\n```\n"
    )
    assert session.argv == ["transition-bot", "console"]
    assert [(s.typed, s.shown) for s in session.steps] == [(None, ["hi"]), ("tick", ["(tick: …)"])]


@pytest.mark.timeout(300)  # several console sessions, each guarded by RUN_SECONDS
async def test_readme_console_session_runs_as_written(
    bind_factory: BindFactory, tmp_path: Path
) -> None:
    records = [
        *microsoft365_records(LAB_DOMAIN, mx=False),
        f"@ MX 10 mail.{LAB_DOMAIN}.",  # the old server: MX is what moves
        "mail A 192.0.2.25",
    ]
    zone = make_zone(LAB_DOMAIN, records, nameservers={"ns1": "127.0.0.1"})
    bind = bind_factory({LAB_DOMAIN: zone})
    sessions = readme_sessions(README.read_text())
    assert len(sessions) >= 2, "README's session shows a second console reaching earlier messages"

    for number, session in enumerate(sessions, 1):
        assert session.argv[:2] == ["transition-bot", "console"]
        argv = with_lab(session.argv[1:], bind.nameserver_arg, bind.port)
        typed = "".join(f"{step.typed}\n" for step in session.steps if step.typed is not None)
        code, out, err = await run(*argv, env=bot_env(), cwd=tmp_path, stdin=typed)
        assert code == 0, err
        shown = steps_of(out)
        assert [s.typed for s in shown] == [s.typed for s in session.steps], out
        for expected, actual in zip(session.steps, shown, strict=True):
            assert matches(expected.shown, actual.shown), (
                f"session {number}, after {expected.typed!r}, README shows:\n"
                + "\n".join(expected.shown)
                + "\n--- the console printed:\n"
                + "\n".join(actual.shown)
            )
