"""Block Kit of the mailbox data step: the OWA message with its buttons, and the modal for the
Graph credentials. Pure: from loaded state to blocks."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import context, section
from bot.blocks.ids import MailboxAction, ViewId
from bot.blocks.times import short
from bot.blocks.values import TenantValue
from bot.core.runbook import Status
from bot.mailbox.form import GraphField
from bot.services.mailbox import MailboxSetup

OWA_URL = "https://outlook.office.com/mail/"
VALUE = "value"


def mailbox_text(setup: MailboxSetup) -> str:
    if setup.status is Status.DONE:
        return f"Mailbox data verified for {setup.tenant_name}."
    return f"Verify the mailbox data of {setup.tenant_name}: does OWA show the mail?"


def mailbox_blocks(setup: MailboxSetup) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="📬 Verify the mailbox data (OWA)")]
    if setup.status is Status.DONE:
        who = f"<@{setup.done_by}>" if setup.done_by and setup.done_by != "bot" else "the bot"
        when = short(setup.done_at, setup.time_zone) if setup.done_at else ""
        blocks.append(section(f"✅ Data verified by {who} {when}".rstrip() + "."))
    else:
        blocks.append(
            section(
                "Sign in to OWA as a few users and check that their mail is there. "
                "*Do not move MX until it is.*"
            )
        )
    if setup.automatic:
        set_at = short(setup.credentials_set_at, setup.time_zone)
        blocks.append(
            context(
                f"Checked automatically through Microsoft Graph (app `{setup.client_id}`, "
                f"set by <@{setup.credentials_set_by}> {set_at}); "
                "the channel hears when the data has arrived."
            )
        )
    else:
        blocks.append(
            context(
                "No automatic check: an admin can enter a Graph app (Mail.ReadBasic.All, "
                "User.Read.All) with *Set up automatic check*."
            )
        )
    buttons = [ButtonElement(text="Open OWA", action_id=MailboxAction.OPEN_OWA, url=OWA_URL)]
    if setup.status is not Status.DONE:
        buttons.append(
            ButtonElement(
                text="I see my mail in OWA",
                action_id=MailboxAction.SEEN,
                value=TenantValue(setup.tenant_id).pack(),
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(
            text="Change automatic check" if setup.automatic else "Set up automatic check",
            action_id=MailboxAction.SETUP,
            value=TenantValue(setup.tenant_id).pack(),
        )
    )
    blocks.append(ActionsBlock(block_id="mailbox", elements=buttons))
    return blocks


def _input(field: GraphField, label: str, *, hint: str, optional: bool = False) -> InputBlock:
    return InputBlock(
        block_id=field.value,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(action_id=VALUE),
    )


def graph_modal(tenant_id: int, channel_id: str) -> View:
    """Never prefilled: a stored secret is not shown again."""
    return View(
        type="modal",
        callback_id=ViewId.GRAPH.value,
        title="Automatic data check",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"tenant": tenant_id, "channel": channel_id}),
        blocks=[
            section(
                "An app registration in the customer's Entra ID with the *application* "
                "permissions Mail.ReadBasic.All and User.Read.All, admin consent granted. "
                "The secret is stored encrypted and never shown again."
            ),
            _input(GraphField.AZURE_TENANT, "Directory (tenant) ID", hint="GUID or domain"),
            _input(GraphField.CLIENT_ID, "Application (client) ID", hint="GUID"),
            _input(GraphField.SECRET, "Client secret value", hint="the Value column, not the ID"),
            _input(
                GraphField.ADDRESSES,
                "Mailboxes to check",
                hint="addresses separated by spaces or commas; empty: every mailbox",
                optional=True,
            ),
            _input(
                GraphField.SHARE,
                "Share that must have mail (%)",
                hint="default 100: every listed mailbox",
                optional=True,
            ),
        ],
    )


def read_graph_values(state: dict[str, Any]) -> dict[str, str]:
    """The modal's submitted values by field name ("" when left empty)."""
    values: dict[str, str] = {}
    for name in GraphField:
        element = (state.get(name.value) or {}).get(VALUE) or {}
        values[name.value] = str(element.get("value") or "")
    return values
