"""manifest.yml is valid for Slack and declares everything the code registers and calls."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.app.assembly import register_handlers
from bot.app.runtime import Runtime
from bot.blocks.ids import ActionId
from bot.ops.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "data" / "slack-manifest.schema.json"  # source: tests/data/README.md
CODE_DIRS = ("bot", "handlers", "storage")

# Web API method -> the bot scopes that allow it (any one is enough); None = needs no scope.
METHOD_SCOPES: dict[str, set[str] | None] = {
    "auth.test": None,
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": None,
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.join": {"channels:join"},
    "conversations.history": {"channels:history", "groups:history"},
    "reactions.add": {"reactions:write"},
}
SLACK_FAMILIES = "auth|chat|views|users|conversations|reactions|pins|team|usergroups|files|dnd"
METHOD_CALL = re.compile(rf"\.({SLACK_FAMILIES})_([A-Za-z]+(?:_[A-Za-z]+)*)\(")
API_CALL = re.compile(r"api_call\(\s*[\"']([\w.]+)[\"']")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return data


class Registrations:
    """Stands in for the AsyncApp in ``register_handlers``: records every registration."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, kind: str) -> Any:
        def register(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((kind, args))
            return lambda func: func

        return register

    def of(self, kind: str) -> list[Any]:
        return [args[0] for k, args in self.calls if k == kind and args]


@pytest.fixture(scope="module")
def registered() -> Registrations:
    recorder = Registrations()
    register_handlers(recorder, Runtime(settings=Settings()))
    return recorder


def code_methods() -> set[str]:
    methods: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            for family, rest in METHOD_CALL.findall(text):
                methods.add(f"{family}.{rest.replace('_', '.')}")
            methods.update(API_CALL.findall(text))
    return methods


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_every_registered_command_is_declared(
    manifest: dict[str, Any], registered: Registrations
) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    commands = set(registered.of("command"))
    assert commands, "no command registered: the recorder no longer sees registrations"
    assert commands <= declared


def test_every_registered_event_is_declared(
    manifest: dict[str, Any], registered: Registrations
) -> None:
    declared = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    for event in registered.of("event"):
        name = event if isinstance(event, str) else event["type"]
        # "message" listeners are fed by message.channels / message.groups / ...
        assert name in declared or any(d.startswith(name + ".") for d in declared), name
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in declared)


def test_interactivity_is_on_and_every_action_id_has_a_listener(
    manifest: dict[str, Any], registered: Registrations
) -> None:
    actions = {str(a) for a in registered.of("action")}
    assert {a.value for a in ActionId} <= actions, "a button without a listener"
    if actions or registered.of("view"):
        assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_request_urls_all_point_at_the_one_endpoint(manifest: dict[str, Any]) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    assert set(urls) == {"https://YOUR-HOST/slack/events"}


def test_every_web_api_method_called_is_covered_by_a_declared_scope(
    manifest: dict[str, Any],
) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    methods = code_methods()
    assert "chat.postMessage" in methods and "chat.update" in methods  # the scan sees calls
    for method in sorted(methods):
        assert method in METHOD_SCOPES, f"{method}: add it to METHOD_SCOPES with its scopes"
        needed = METHOD_SCOPES[method]
        assert needed is None or needed & scopes, f"{method} needs one of {needed}"
    assert "commands" in scopes
