"""Every `/transition` word the handlers answer is in the usage message people see."""

import re
from pathlib import Path

from bot.blocks.help import USAGE, usage_text

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def registered_words() -> set[str]:
    words: set[str] = set()
    for source in HANDLERS.glob("*.py"):
        for call in re.findall(r"word_is\(([^)]*)\)", source.read_text()):
            words.update(re.findall(r'"([a-z-]+)"', call))
    words.update(("done", "skip", "reopen"))  # registered through WORD_ACTIONS
    return words


def test_every_word_is_in_the_usage_message() -> None:
    listed = " ".join(command for command, _ in USAGE)
    words = registered_words()
    assert {"check", "start", "status", "request"} <= words
    missing = sorted(w for w in words if not re.search(rf"\b{re.escape(w)}\b", listed))
    assert not missing, f"usage message does not mention: {missing}"


def test_unknown_word_is_named_back_escaped() -> None:
    text = usage_text("<script>")
    assert "I don't know `&lt;script&gt;`" in text
    assert "/transition check contoso.com" in text
