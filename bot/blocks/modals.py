"""Modals: the tenant form of `/transition start`, and the reason asked by Skip.

Input block ids are bot.core.tenant_form.Field names, so validation errors map onto them directly
(``response_action: errors``); every input's action_id is ``"value"``.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import section
from bot.blocks.ids import ViewId
from bot.core.runbook import STEP_BY_ID, StepId
from bot.core.tenant_form import DETECT, Field, TenantForm
from bot.dnscheck.sources import SOURCES, Detected

VALUE = "value"
YES, NO = "yes", "no"
MAX_OPTION_VALUE, MAX_OPTION_LABEL = 150, 75  # Slack's limits for an option's value and text


def _capital(title: str) -> str:
    return title[:1].upper() + title[1:]


SOURCE_OPTIONS = [
    Option(value=DETECT, label="Detect from MX and SPF"),
    *(Option(value=s.name, label=_capital(s.title)) for s in SOURCES.values()),
]


def source_options(detected: Detected | None = None) -> list[Option]:
    """The known sources, and another provider named by its MX host when that was detected."""
    if detected is None or detected.source is None:
        return SOURCE_OPTIONS
    choice = detected.other_choice
    if not choice or len(choice) > MAX_OPTION_VALUE:
        return SOURCE_OPTIONS
    label = _capital(detected.source.title) + " (detected)"
    if len(label) > MAX_OPTION_LABEL:
        label = label[: MAX_OPTION_LABEL - 1] + "…"
    return [*SOURCE_OPTIONS, Option(value=choice, label=label)]


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    placeholder: str = "",
    optional: bool = False,
    hint: str | None = None,
    multiline: bool = False,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=VALUE,
            initial_value=initial or None,
            placeholder=placeholder or None,
            multiline=multiline,
        ),
    )


def start_modal(
    channel_id: str, domains: str, name: str = "", detected: Detected | None = None
) -> View:
    """The tenant form; ``detected``: what the command's domains' mail comes from, when it is
    another provider (offered as a source beside the known ones)."""
    yes = Option(value=YES, label="Yes")
    no = Option(value=NO, label="No")
    blocks: list[Block] = [
        _text_input(Field.NAME, "Tenant name", initial=name, placeholder="Contoso Ltd"),
        _text_input(
            Field.DOMAINS,
            "Domains",
            initial=domains,
            placeholder="contoso.com contoso.de",
            hint="The primary domain first; separate several with spaces.",
        ),
        InputBlock(
            block_id=Field.ONPREM,
            label="On-premises Exchange?",
            element=RadioButtonsElement(action_id=VALUE, options=[no, yes], initial_option=no),
        ),
        _text_input(
            Field.INTERNAL_DNS,
            "Internal DNS server",
            optional=True,
            placeholder="10.0.0.53",
            hint="With an on-premises Exchange, IP or IP:PORT: the bot checks the local "
            "autodiscover record there (without it, mark that step done yourself).",
        ),
        InputBlock(
            block_id=Field.SOURCE,
            label="Where does mail come from today?",
            hint="Detected from the current MX and SPF unless you pick one; the SPF fix keeps "
            "its include until MX has moved, and the cleanup says when its records can go.",
            element=StaticSelectElement(
                action_id=VALUE,
                options=source_options(detected),
                initial_option=SOURCE_OPTIONS[0],
            ),
        ),
        _text_input(
            Field.TIME_ZONE,
            "Time zone",
            initial="UTC",
            hint="For reminders and times, e.g. Europe/Berlin or America/New_York.",
        ),
        InputBlock(
            block_id=Field.APPROVERS,
            label="Approvers",
            element=UserMultiSelectElement(action_id=VALUE, placeholder="Who may approve MX"),
        ),
        InputBlock(
            block_id=Field.APPROVALS_NEEDED,
            label="Approvals needed",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                initial_value="1",
                min_value="1",
                max_value="10",
            ),
        ),
        _text_input(
            Field.PARTNER_ID,
            "Partner id (license advisor)",
            optional=True,
            placeholder="1234567",
        ),
    ]
    return View(
        type="modal",
        callback_id=ViewId.START,
        title="Start a transition",
        submit="Start",
        close="Cancel",
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=blocks,
    )


def _value(values: dict[str, Any], block_id: str) -> Any:
    return (values.get(block_id) or {}).get(VALUE) or {}


def read_start_form(state_values: dict[str, Any]) -> TenantForm:
    """The submitted ``view.state.values`` -> the raw form (validated by bot.core.tenant_form)."""
    onprem = (_value(state_values, Field.ONPREM).get("selected_option") or {}).get("value")
    source = (_value(state_values, Field.SOURCE).get("selected_option") or {}).get("value")
    return TenantForm(
        name=str(_value(state_values, Field.NAME).get("value") or ""),
        domains=str(_value(state_values, Field.DOMAINS).get("value") or ""),
        onprem_exchange=onprem == YES,
        internal_dns_server=str(_value(state_values, Field.INTERNAL_DNS).get("value") or ""),
        time_zone=str(_value(state_values, Field.TIME_ZONE).get("value") or ""),
        approvers=tuple(_value(state_values, Field.APPROVERS).get("selected_users") or ()),
        approvals_needed=str(_value(state_values, Field.APPROVALS_NEEDED).get("value") or ""),
        partner_id=str(_value(state_values, Field.PARTNER_ID).get("value") or ""),
        source=str(source or ""),
    )


REASON = "reason"


def skip_modal(tenant_id: int, step_id: StepId, channel_id: str, message_ts: str) -> View:
    meta = {"tenant": tenant_id, "step": str(step_id), "channel": channel_id, "ts": message_ts}
    return View(
        type="modal",
        callback_id=ViewId.SKIP,
        title="Skip a step",
        submit="Skip",
        close="Cancel",
        private_metadata=json.dumps(meta),
        blocks=[
            section(f"Skip *{STEP_BY_ID[step_id].title}*? Say why, for the history."),
            _text_input(REASON, "Reason", multiline=True, placeholder="No Lync in this tenant"),
        ],
    )


def read_skip_reason(state_values: dict[str, Any]) -> str:
    return str(_value(state_values, REASON).get("value") or "")
