"""The OAuth side of the fake Slack (``fake_slack.oauth``): ``oauth.v2.access`` for install codes
and for ``grant_type=refresh_token``, and the bot tokens it handed out (per workspace).

    fake_slack.oauth.add_install("code-a", team_id="T0ALPHA")          # a code, its workspace
    fake_slack.oauth.add_install("code-b", team_id="T0BETA", rotating=True)

The bot exchanges a code (client id/secret in HTTP Basic auth, like slack_sdk sends them) for a
bot token of that workspace; ``auth.test`` with that token answers that workspace; every Web
API call is recorded with the token it carried (``ApiCall.token``), so a test can tell which
workspace's token a post used. Rotating installs get tokens that expire (``expires_in``) and a
refresh token that works ONCE, like a stolen or replayed one would not: two replicas that both
refresh with the same refresh token make the second one fail (``invalid_refresh_token``).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret-0123456789"
APP_ID = "A0TRANSITION"
TOKEN_SECONDS = 43_200  # Slack's rotating bot tokens live 12 hours


@dataclass
class Install:
    team_id: str
    team_name: str
    rotating: bool
    enterprise_id: str | None = None
    refreshes: int = 0


@dataclass
class FakeOAuth:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    codes: dict[str, Install] = field(default_factory=dict)
    tokens: dict[str, Install] = field(default_factory=dict)  # valid bot tokens
    refresh_tokens: dict[str, Install] = field(default_factory=dict)  # unused ones
    delay: float = 0.0  # seconds each oauth.v2.access call takes
    # A slow Slack, for as long as a test wants: while ``gate`` is set and not open, every
    # oauth.v2.access call waits at it (``waiting`` counts them).
    gate: asyncio.Event | None = None
    waiting: int = 0
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_install(
        self, code: str, team_id: str, *, team_name: str = "", rotating: bool = False
    ) -> Install:
        install = Install(team_id, team_name or team_id.title(), rotating)
        self.codes[code] = install
        return install

    async def pass_gate(self) -> None:
        if self.gate is None:
            return
        self.waiting += 1
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1

    def bot_user(self, team_id: str) -> str:
        return f"U{team_id[1:]}BOT"

    def issue(self, install: Install) -> dict[str, Any]:
        """A new bot token (and refresh token when rotating) for ``install``."""
        n = next(self._serial)
        prefix = "xoxe.xoxb" if install.rotating else "xoxb"
        token = f"{prefix}-{install.team_id}-{n}"
        self.tokens[token] = install
        answer: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        if install.rotating:
            refresh = f"xoxe-1-{install.team_id}-{n}"
            self.refresh_tokens[refresh] = install
            answer.update(refresh_token=refresh, expires_in=TOKEN_SECONDS)
        return answer

    def revoke_team(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        for table in (self.tokens, self.refresh_tokens):
            for key in [k for k, v in table.items() if v.team_id == team_id]:
                del table[key]

    def tokens_of(self, team_id: str) -> list[str]:
        return [t for t, install in self.tokens.items() if install.team_id == team_id]

    def _client_ok(self, authorization: str, params: dict[str, Any]) -> bool:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            client_id, _, secret = decoded.partition(":")
        return client_id == self.client_id and secret == self.client_secret

    def access(self, authorization: str, params: dict[str, Any]) -> dict[str, Any]:
        """The answer of ``oauth.v2.access``."""
        if not self._client_ok(authorization, params):
            return {"ok": False, "error": "invalid_client_id"}
        if params.get("grant_type") == "refresh_token":
            install = self.refresh_tokens.pop(str(params.get("refresh_token")), None)
            if install is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            install.refreshes += 1
            return {"ok": True, **self.issue(install)}
        install = self.codes.pop(str(params.get("code")), None)
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            **self.issue(install),
            "scope": "commands,chat:write,chat:write.public,users:read,channels:read,groups:read",
            "bot_user_id": self.bot_user(install.team_id),
            "app_id": APP_ID,
            "team": {"id": install.team_id, "name": install.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": f"U{install.team_id[1:]}ADMIN"},
        }

    def auth_test(self, token: str) -> dict[str, Any]:
        install = self.tokens[token]
        return {
            "ok": True,
            "url": f"https://{install.team_id.lower()}.slack.com/",
            "team": install.team_name,
            "user": "transition-bot",
            "team_id": install.team_id,
            "user_id": self.bot_user(install.team_id),
            "bot_id": f"B{install.team_id[1:]}",
            "is_enterprise_install": False,
        }
