"""Every `/transition` word the handlers answer is in the usage message people see."""

import re
from typing import Any

from bot.app.assembly import register_handlers
from bot.app.runtime import Runtime
from bot.blocks.help import USAGE, usage_text
from bot.ops.config import Settings
from handlers.commands import words_of


class AnyApp:
    """Takes every Bolt registration and keeps none: the words are kept by handlers.commands."""

    def __getattr__(self, kind: str) -> Any:
        return lambda *args, **kwargs: lambda func: func


def registered_words() -> set[str]:
    app = AnyApp()
    register_handlers(app, Runtime(settings=Settings()))
    return set(words_of(app).listeners) - {""}


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
