"""Block Kit -> readable terminal text (pure: dicts in, text out).

Messages are rendered from what the bot posts (``text``, ``blocks``, ``attachments``), modals
from the ``view`` it opens. Buttons are numbered in reading order, ``[1] Done  [2] Skip``, and
returned with what a click needs (action_id, block_id, value), so ``click N`` presses the
button the person saw as ``[N]``. Styles are ANSI escapes on a terminal and plain text
otherwise (pipes, tests), where Slack's own ``*bold*`` / ``_italic_`` markup is left as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from bot.console.forms import InputField, element_field, input_fields

JSON = dict[str, Any]
WIDTH = 72

_EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "x": "❌",
    "warning": "⚠️",
    "hourglass": "⏳",
    "hourglass_flowing_sand": "⏳",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "rotating_light": "🚨",
    "white_circle": "⚪",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "red_circle": "🔴",
    "large_blue_circle": "🔵",
    "arrow_right": "➡",
    "email": "📧",
    "envelope": "✉",
    "mailbox": "📫",
    "lock": "🔒",
    "key": "🔑",
    "bell": "🔔",
    "tada": "🎉",
    "question": "❓",
    "information_source": "ℹ",
    "heavy_minus_sign": "➖",
    "fast_forward": "⏩",
    "arrows_counterclockwise": "🔄",
    "globe_with_meridians": "🌐",
    "clipboard": "📋",
    "mag": "🔍",
    "heavy_plus_sign": "➕",
    "wastebasket": "🗑",
    "alarm_clock": "⏰",
    "grey_question": "❔",
    "twisted_rightwards_arrows": "🔀",
    "traffic_light": "🚦",
    "vertical_traffic_light": "🚦",
    "construction": "🚧",
    "memo": "📝",
    "calendar": "📅",
    "inbox_tray": "📥",
    "mailbox_with_mail": "📬",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "thumbsup": "👍",
    "+1": "👍",
    "link": "🔗",
    "exclamation": "❗",
    "large_orange_circle": "🟠",
}


@dataclass(frozen=True)
class Style:
    """How emphasis is shown: ANSI escapes (a terminal) or plain text."""

    ansi: bool = False

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.ansi and text else text

    def bold(self, text: str) -> str:
        return self._sgr("1", text)

    def dim(self, text: str) -> str:
        return self._sgr("2", text)

    def italic(self, text: str) -> str:
        return self._sgr("3", text)

    def code(self, text: str) -> str:
        return self._sgr("36", text)

    def strike(self, text: str) -> str:
        return self._sgr("9", text)

    def button(self, text: str, style: str | None) -> str:
        colour = {"primary": "32", "danger": "31"}.get(style or "")
        return self._sgr(f"1;{colour}", text) if colour else self.bold(text)

    def rule(self) -> str:
        return self.dim("─" * 40) if self.ansi else "-" * 40


PLAIN = Style(ansi=False)


# Menus and pickers a person can use in a message or modal outside an input block; numbered
# with the buttons, chosen with `pick N VALUE`.
MENUS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "overflow",
        "datepicker",
        "timepicker",
        "radio_buttons",
        "checkboxes",
    }
)


@dataclass(frozen=True)
class Button:
    """A numbered control as shown (a button, or a menu when ``kind`` is not "button"), with
    what using it sends."""

    number: int
    text: str
    action_id: str
    block_id: str
    value: str | None = None
    url: str | None = None
    style: str | None = None
    confirm: str = ""  # the confirm dialog's text; the console clicks through it
    kind: str = "button"
    element: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_menu(self) -> bool:
        return self.kind != "button"


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...] = ()
    fields: tuple[InputField, ...] = ()


# --- mrkdwn ---------------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>]+)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)


def _link(inner: str, users: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        return "@" + (label or users.get(user, user))
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@" + target.removeprefix("!subteam^")
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return "@" + target[1:]
    if label and label != target.removeprefix("mailto:"):
        return f"{label} ({target})"
    return label or target.removeprefix("mailto:")


def _emoji(match: re.Match[str]) -> str:
    return _EMOJI.get(match.group(1), match.group(0))


def mrkdwn(text: str, style: Style = PLAIN, users: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn -> terminal text: links, mentions, entities and common emoji always; bold,
    italic, strike and code as ANSI on a terminal (left as Slack's markup in plain mode)."""
    names = users or {}
    out = _LINK.sub(lambda m: _link(m.group(1), names), text)
    out = _EMOJI_CODE.sub(_emoji, out)
    if style.ansi:
        # code first, so markup inside it stays literal
        out = _FENCE.sub(lambda m: style.code(m.group(1).strip("\n")), out)
        out = _CODE.sub(lambda m: style.code(m.group(1)), out)
        out = _BOLD.sub(lambda m: style.bold(m.group(1)), out)
        out = _ITALIC.sub(lambda m: style.italic(m.group(1)), out)
        out = _STRIKE.sub(lambda m: style.strike(m.group(1)), out)
    return unescape(out)


def text_object(obj: Any, style: Style = PLAIN, users: Mapping[str, str] | None = None) -> str:
    """A Block Kit text object (plain_text or mrkdwn) as terminal text."""
    if isinstance(obj, str):
        return mrkdwn(obj, style, users)
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, style, users)
    return _EMOJI_CODE.sub(_emoji, text) if obj.get("emoji", True) else text


# --- blocks ---------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, style: Style, users: Mapping[str, str], first: int = 1) -> None:
        self.style = style
        self.users = users
        self.first = first  # the number of the first button
        self.buttons: list[Button] = []

    def text(self, obj: Any) -> str:
        return text_object(obj, self.style, self.users)

    def button(self, element: JSON, block_id: str) -> str:
        number = self.first + len(self.buttons)
        label = self.text(element.get("text"))
        confirm = element.get("confirm") or {}
        self.buttons.append(
            Button(
                number=number,
                text=label,
                action_id=str(element.get("action_id", "")),
                block_id=block_id,
                value=element.get("value"),
                url=element.get("url"),
                style=element.get("style"),
                confirm=self.text(confirm.get("text")) if confirm else "",
            )
        )
        return self.style.button(f"[{number}] {label}", element.get("style"))

    def menu(self, element: JSON, block_id: str) -> str:
        """A menu or picker: ``[N] Owner: @U1 ▾`` (its placeholder, and what is chosen)."""
        number = self.first + len(self.buttons)
        kind = str(element.get("type", ""))
        menu = element_field(element, block_id=block_id)
        label = self.text(element.get("placeholder")) or kind.replace("_", " ")
        if kind == "overflow":
            label = "more: " + " / ".join(o.text for o in menu.options)
        chosen = menu.initial
        if chosen and kind in ("users_select", "multi_users_select"):
            chosen = ", ".join("@" + self.users.get(u, u) for u in chosen.split(","))
        self.buttons.append(
            Button(number, label, menu.action_id, block_id, kind=kind, element=dict(element))
        )
        return f"[{number}] {label}{': ' + chosen if chosen else ''} ▾"

    def element(self, element: JSON, block_id: str) -> str:
        kind = element.get("type")
        if kind == "button":
            return self.button(element, block_id)
        if kind in MENUS:
            return self.menu(element, block_id)
        if kind == "image":
            return f"[image: {element.get('alt_text', '')}]"
        if kind in ("mrkdwn", "plain_text"):
            return self.text(element)
        placeholder = self.text(element.get("placeholder"))
        return self.style.dim(f"({kind}{': ' + placeholder if placeholder else ''})")

    def fields(self, fields: Sequence[JSON]) -> list[str]:
        cells = [self.text(f).splitlines() or [""] for f in fields]
        left_width = min(
            max((len(line) for cell in cells[0::2] for line in cell), default=0), WIDTH // 2
        )
        lines: list[str] = []
        for i in range(0, len(cells), 2):
            left = cells[i]
            right = cells[i + 1] if i + 1 < len(cells) else []
            for j in range(max(len(left), len(right))):
                a = left[j] if j < len(left) else ""
                b = right[j] if j < len(right) else ""
                pad = " " * max(left_width - _visible_len(a), 0)
                lines.append(f"  {a}{pad}   {b}".rstrip())
        return lines

    def block(self, block: JSON) -> list[str]:
        kind = block.get("type")
        block_id = str(block.get("block_id", ""))
        if kind == "header":
            return [self.style.bold(self.text(block.get("text")))]
        if kind == "divider":
            return [self.style.rule()]
        if kind == "section":
            lines = self.text(block.get("text")).splitlines() if block.get("text") else []
            lines.extend(self.fields(block.get("fields") or []))
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                lines.append("    " + self.element(accessory, block_id))
            return lines
        if kind == "context":
            parts = [self.element(e, block_id) for e in block.get("elements") or []]
            return [self.style.dim(" · ".join(p for p in parts if p))]
        if kind == "actions":
            return ["  ".join(self.element(e, block_id) for e in block.get("elements") or [])]
        if kind == "image":
            title = self.text(block.get("title"))
            return [f"[image: {block.get('alt_text', '')}]{' ' + title if title else ''}"]
        if kind == "rich_text":
            return _rich_text(block, self.style).splitlines()
        if kind == "input":
            return []  # shown by the modal's field list, where the field names are
        return [self.style.dim(f"[{kind}]")]

    def blocks(self, blocks: Sequence[JSON]) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            if isinstance(block, dict):
                lines.extend(self.block(block))
        return lines


def _visible_len(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _rich_text(block: JSON, style: Style) -> str:
    def inline(element: JSON) -> str:
        kind = element.get("type")
        if kind == "text":
            text = str(element.get("text", ""))
            s = element.get("style") or {}
            if s.get("code"):
                text = style.code(text)
            if s.get("bold"):
                text = style.bold(text)
            if s.get("italic"):
                text = style.italic(text)
            return text
        if kind == "link":
            return str(element.get("text") or element.get("url", ""))
        if kind == "user":
            return "@" + str(element.get("user_id", ""))
        if kind == "channel":
            return "#" + str(element.get("channel_id", ""))
        if kind == "emoji":
            return _EMOJI.get(str(element.get("name")), f":{element.get('name')}:")
        return ""

    out: list[str] = []
    for part in block.get("elements") or []:
        if part.get("type") == "rich_text_list":
            for item in part.get("elements") or []:
                out.append("• " + "".join(inline(e) for e in item.get("elements") or []))
        else:
            out.append("".join(inline(e) for e in part.get("elements") or []))
    return "\n".join(out)


def render_message(
    message: Mapping[str, Any],
    style: Style = PLAIN,
    users: Mapping[str, str] | None = None,
    *,
    first: int = 1,
) -> Rendered:
    """A message as posted (``text``, ``blocks``, ``attachments``). ``text`` is the
    notification fallback: shown only when there are no blocks, as Slack does. Buttons are
    numbered from ``first`` (a listing of several messages numbers them all in one run)."""
    r = _Renderer(style, users or {}, first)
    blocks = message.get("blocks") or []
    lines = r.blocks(blocks)
    if not blocks and message.get("text"):
        text = str(message["text"])
        lines.extend(
            (mrkdwn(text, style, r.users) if message.get("mrkdwn", True) else text).splitlines()
        )
    for attachment in message.get("attachments") or []:
        inner = r.blocks(attachment.get("blocks") or [])
        for key in ("pretext", "title", "text"):
            if attachment.get(key):
                inner.append(mrkdwn(str(attachment[key]), style, r.users))
        inner.extend(
            f"{mrkdwn(str(f.get('title', '')), style)}: {mrkdwn(str(f.get('value', '')), style)}"
            for f in attachment.get("fields") or []
        )
        lines.extend("│ " + line for text in inner for line in text.splitlines())
    return Rendered("\n".join(lines), tuple(r.buttons))


def _field_line(field: InputField, style: Style) -> list[str]:
    kind = field.type.replace("_", " ")
    flags = ", ".join(x for x in (kind, "optional" if field.optional else "") if x)
    ids = style.dim(f"{field.block_id}/{field.action_id}")  # where the app reads it
    head = f"  • {field.label}  {style.bold(field.name + '=')}  ({flags} · {ids})"
    lines = [head]
    if field.initial:
        lines.append(f"      now: {field.initial}")
    if field.options:
        shown = ", ".join(
            o.value if o.text == o.value else f"{o.value} ({o.text})" for o in field.options
        )
        lines.append(f"      {'any of' if field.multiple else 'one of'}: {shown}")
    return lines


def render_view(
    view: Mapping[str, Any], style: Style = PLAIN, users: Mapping[str, str] | None = None
) -> Rendered:
    """A modal (or home tab): title, its blocks, then its inputs as ``name=`` fields and the
    submit / close labels, so a person knows what to type after ``submit``."""
    r = _Renderer(style, users or {})
    title = text_object(view.get("title"), style)
    kind = "Home tab" if view.get("type") == "home" else "Modal"
    lines = [style.bold(f"┌ {kind}: {title}" if title else f"┌ {kind}")]
    lines.extend("│ " + line for line in r.blocks(view.get("blocks") or []))
    fields = input_fields(view)
    if fields:
        lines.append("│ Fields (submit name=value …):")
        lines.extend("│ " + line for f in fields for line in _field_line(f, style))
    if view.get("type", "modal") == "modal":
        submit = text_object(view.get("submit"), style)
        close = text_object(view.get("close"), style) or "Cancel"
        actions = [f"`submit` → {submit}"] if submit else []
        actions.append(f"`close` → {close}")
        lines.append("└ " + "   ".join(actions))
    return Rendered("\n".join(lines), tuple(r.buttons), tuple(fields))
