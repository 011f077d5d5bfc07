"""A modal's inputs, and the ``view.state.values`` Slack sends when it is submitted (pure).

``input_fields(view)`` lists what a person can fill in; ``state_values(view, {"name": "x"})``
builds the submission's state in Slack's shape: every input of the view appears, carrying the
value typed for it or else its initial value, exactly as Slack would report an untouched field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# element type -> (state key, initial-value key) for single-valued elements
_SCALAR: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
}
_MULTI_IDS: dict[str, tuple[str, str]] = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MANY_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}


class FormError(ValueError):
    """A submission the console cannot build (unknown field, no such option); says what to do."""


@dataclass(frozen=True)
class Option:
    text: str
    value: str
    raw: JSON = field(default_factory=dict, compare=False, repr=False)  # as the view gave it


@dataclass(frozen=True)
class InputField:
    name: str  # what to type in `submit name=value`
    block_id: str
    action_id: str
    label: str
    type: str  # the element type, e.g. "plain_text_input", "static_select"
    optional: bool
    initial: str  # the initial value as text ("" when none)
    options: tuple[Option, ...] = ()
    multiline: bool = False

    @property
    def multiple(self) -> bool:
        return self.type in _MANY_OPTIONS or self.type in _MULTI_IDS


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _options(element: Mapping[str, Any]) -> tuple[Option, ...]:
    raw: list[JSON] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        raw.extend(group.get("options") or [])
    return tuple(Option(_text(o.get("text")), str(o.get("value", "")), dict(o)) for o in raw)


def initial_text(element: Mapping[str, Any]) -> str:
    """An element's initial value as text ("" when none): what the person sees selected."""
    kind = str(element.get("type", ""))
    if kind in _SCALAR:
        value = element.get(_SCALAR[kind][1])
        return "" if value is None else str(value)
    if kind in _MULTI_IDS:
        return ",".join(element.get(_MULTI_IDS[kind][1]) or [])
    if kind in _ONE_OPTION:
        return _text((element.get("initial_option") or {}).get("text"))
    if kind in _MANY_OPTIONS:
        return ",".join(_text(o.get("text")) for o in element.get("initial_options") or [])
    if kind == "datetimepicker" and element.get("initial_date_time") is not None:
        return str(element["initial_date_time"])
    return ""


def input_fields(view: Mapping[str, Any]) -> list[InputField]:
    """The input blocks of ``view``, in order, each named by the shortest unambiguous name: its
    action_id, else its block_id (inputs sharing an action_id), else ``block_id.action_id``."""
    found: list[tuple[JSON, JSON]] = [
        (block, block["element"])
        for block in view.get("blocks") or []
        if block.get("type") == "input" and isinstance(block.get("element"), dict)
    ]
    action_ids = [str(e.get("action_id", "")) for _b, e in found]
    block_ids = [str(b.get("block_id", "")) for b, _e in found]
    fields = []
    for block, element in found:
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        if action_ids.count(action_id) == 1:
            name = action_id
        elif block_id and block_ids.count(block_id) == 1:
            name = block_id
        else:
            name = f"{block_id}.{action_id}"
        field = element_field(element, block_id=block_id, label=_text(block.get("label")))
        fields.append(
            dataclasses.replace(field, name=name, optional=bool(block.get("optional", False)))
        )
    return fields


def element_field(element: Mapping[str, Any], *, block_id: str, label: str = "") -> InputField:
    """One interactive element (an input's, or a menu in a message) as a field."""
    action_id = str(element.get("action_id", ""))
    return InputField(
        name=action_id,
        block_id=block_id,
        action_id=action_id,
        label=label,
        type=str(element.get("type", "")),
        optional=False,
        initial=initial_text(element),
        options=_options(element),
        multiline=bool(element.get("multiline", False)),
    )


def find_field(fields: Iterable[InputField], name: str) -> InputField:
    """The field called ``name``: its action_id, its block_id, or ``block_id.action_id``."""
    fields = list(fields)
    for key in (
        lambda f: f.name,
        lambda f: f"{f.block_id}.{f.action_id}",
        lambda f: f.action_id,
        lambda f: f.block_id,
    ):
        matches = [f for f in fields if key(f) == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(f.name for f in matches)
            raise FormError(f"{name!r} is ambiguous here: use one of {names}")
    known = ", ".join(f.name for f in fields) or "none"
    raise FormError(f"this modal has no field {name!r} (fields: {known})")


def _pick(field: InputField, wanted: str) -> Option:
    for match in (
        lambda o: o.value == wanted,
        lambda o: o.text.casefold() == wanted.casefold(),
        lambda o: o.value.casefold() == wanted.casefold(),
    ):
        for option in field.options:
            if match(option):
                return option
    choices = ", ".join(o.value for o in field.options) or "none"
    raise FormError(f"{field.name}: {wanted!r} is not one of its options ({choices})")


def _option_json(option: Option) -> JSON:
    """Slack reports a chosen option exactly as the view declared it."""
    return option.raw or {
        "text": {"type": "plain_text", "text": option.text},
        "value": option.value,
    }


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def field_state(field: InputField, element: Mapping[str, Any], typed: str | None) -> JSON:
    """One element's entry in ``state.values``: ``typed`` when given, else the initial value."""
    kind = field.type
    state: JSON = {"type": kind}
    if kind in _SCALAR:
        key, initial_key = _SCALAR[kind]
        value = typed if typed is not None else element.get(initial_key)
        state[key] = value if value not in ("",) else None
    elif kind in _MULTI_IDS:
        key, initial_key = _MULTI_IDS[kind]
        state[key] = _split(typed) if typed is not None else list(element.get(initial_key) or [])
    elif kind in _ONE_OPTION:
        if typed is not None:
            state["selected_option"] = _option_json(_pick(field, typed)) if typed else None
        else:
            state["selected_option"] = element.get("initial_option")
    elif kind in _MANY_OPTIONS:
        if typed is not None:
            state["selected_options"] = [_option_json(_pick(field, w)) for w in _split(typed)]
        else:
            state["selected_options"] = list(element.get("initial_options") or [])
    elif kind == "datetimepicker":
        value = typed if typed is not None else element.get("initial_date_time")
        state["selected_date_time"] = int(value) if value not in (None, "") else None
    elif kind == "rich_text_input":
        text = typed or ""
        state["rich_text_value"] = {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    else:
        state["value"] = typed
    return state


def state_values(view: Mapping[str, Any], typed: Mapping[str, str]) -> dict[str, dict[str, JSON]]:
    """``view.state.values`` for a submission of ``view`` with ``typed`` (field name -> text)."""
    fields = input_fields(view)
    by_field: dict[tuple[str, str], str] = {}
    for name, value in typed.items():
        field = find_field(fields, name)
        by_field[(field.block_id, field.action_id)] = value
    elements = {
        (str(b.get("block_id", "")), str(b["element"].get("action_id", ""))): b["element"]
        for b in view.get("blocks") or []
        if b.get("type") == "input" and isinstance(b.get("element"), dict)
    }
    values: dict[str, dict[str, JSON]] = {}
    for field in fields:
        key = (field.block_id, field.action_id)
        state = field_state(field, elements[key], by_field.get(key))
        values.setdefault(field.block_id, {})[field.action_id] = state
    return values
