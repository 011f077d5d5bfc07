"""How long does `transition-bot` take to start? Prints wall time and modules imported.

Each line runs a fresh interpreter: `--help`, `check --help`, `check` with bad input (the
imports of a real check without its DNS), beside importing every subcommand module up front
(what `--help` cost before the subcommands were loaded lazily) and a bare interpreter.
Figures only, no assertions.

    python bench/cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

EAGER = (
    "import bot.dnscheck.cli, bot.cli.serve, bot.app.socket_mode, bot.cli.db, bot.cli.workspace, "
    "bot.cli.genkey, bot.console.cli"
)
CASES = {
    "python -c pass": "pass",
    "transition-bot --help": "from bot.cli import main; main(['--help'])",
    "transition-bot check --help": "from bot.cli import main; main(['check', '--help'])",
    "transition-bot check 'bad input'": "from bot.cli import main; main(['check', 'bad input'])",
    "every subcommand imported (before)": EAGER,
}
COUNT = "\nimport sys; print(len(sys.modules), file=sys.stderr)"


def run(code: str) -> tuple[float, int]:
    wrapped = f"try:\n    {code}\nexcept SystemExit:\n    pass{COUNT}"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    return elapsed, int(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"{'command':40} {'median s':>9} {'min s':>7} {'modules':>8}   ({runs} runs)")
    for label, code in CASES.items():
        results = [run(code) for _ in range(runs)]
        times = [t for t, _ in results]
        print(f"{label:40} {statistics.median(times):9.3f} {min(times):7.3f} {results[0][1]:8d}")


if __name__ == "__main__":
    main()
