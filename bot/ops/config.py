"""Configuration from the environment (and a ``.env`` file), read once at assembly.

Every setting the bot reads is listed in ``SETTINGS`` so README, compose.yaml and the tests can
check against one list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from bot.dnscheck.model import DnsConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./transition-bot.db"

# name -> how to get it (shown when a required setting is missing)
SETTINGS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the Signing Secret from your app's Basic Information page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, from Basic Information",
    "SLACK_CLIENT_ID": "the Client ID from your app's Basic Information page (OAuth install)",
    "SLACK_CLIENT_SECRET": "the Client Secret from your app's Basic Information page",
    "SLACK_STATE_SECRET": "any long random string, used to sign OAuth state",
    "SLACK_API_URL": "the Slack Web API base URL (default https://slack.com/api/)",
    "DATABASE_URL": f"a SQLAlchemy URL (default {DEFAULT_DATABASE_URL})",
    "PORT": "the HTTP port for `transition-bot serve` (default 3000)",
    "TRANSITION_NAMESERVERS": "comma-separated IP or IP:PORT resolvers (default the system's)",
    "TRANSITION_DNS_TIMEOUT": "seconds to wait for one DNS answer (default 3)",
    "TRANSITION_DNS_PORT": "port of the authoritative servers (default 53; labs and tests only)",
    "TRANSITION_POLL_SECONDS": "background poll interval while nothing is expected (default 300)",
    "TRANSITION_FAST_POLL_SECONDS": "poll interval once MX is approved or moving (default 30)",
    "TRANSITION_SECRET_KEY": "a Fernet key to encrypt stored secrets (make one with "
    "`transition-bot genkey`)",
    "TRANSITION_GRAPH_URL": "Microsoft Graph base URL (default https://graph.microsoft.com)",
    "TRANSITION_LOGIN_URL": "Microsoft identity base URL (default https://login.microsoftonline.com)",
    "TRANSITION_CA_BUNDLE": "extra CAs (PEM) for every HTTPS fetch: Slack, Graph, MTA-STS",
    "LOG_FORMAT": "`text` (default) or `json`",
    "LOG_LEVEL": "logging level (default INFO)",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def _env(name: str) -> dict[str, str]:
    """A field's metadata: the environment variable it is read from (a name in SETTINGS)."""
    return {"env": name}


@dataclass(frozen=True)
class Settings:
    """Each field's metadata names the variable it is read from, so ``require`` checks the
    field that holds the setting it names (``setting_field``)."""

    slack_bot_token: str | None = field(default=None, metadata=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = field(default=None, metadata=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = field(default=None, metadata=_env("SLACK_APP_TOKEN"))
    slack_client_id: str | None = field(default=None, metadata=_env("SLACK_CLIENT_ID"))
    slack_client_secret: str | None = field(default=None, metadata=_env("SLACK_CLIENT_SECRET"))
    slack_state_secret: str | None = field(default=None, metadata=_env("SLACK_STATE_SECRET"))
    slack_api_url: str | None = field(default=None, metadata=_env("SLACK_API_URL"))
    database_url: str = field(default=DEFAULT_DATABASE_URL, metadata=_env("DATABASE_URL"))
    port: int = field(default=3000, metadata=_env("PORT"))
    dns: DnsConfig = field(default_factory=DnsConfig)
    poll_seconds: float = field(default=300.0, metadata=_env("TRANSITION_POLL_SECONDS"))
    fast_poll_seconds: float = field(default=30.0, metadata=_env("TRANSITION_FAST_POLL_SECONDS"))
    secret_key: str | None = field(default=None, metadata=_env("TRANSITION_SECRET_KEY"))
    graph_url: str = field(
        default="https://graph.microsoft.com", metadata=_env("TRANSITION_GRAPH_URL")
    )
    login_url: str = field(
        default="https://login.microsoftonline.com", metadata=_env("TRANSITION_LOGIN_URL")
    )
    ca_bundle: str | None = field(default=None, metadata=_env("TRANSITION_CA_BUNDLE"))
    log_format: str = field(default="text", metadata=_env("LOG_FORMAT"))
    log_level: str = field(default="INFO", metadata=_env("LOG_LEVEL"))

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def require(self, *names: str) -> None:
        """Stop with one line naming the first missing setting and how to get it."""
        for name in names:
            if not getattr(self, setting_field(name)):
                raise ConfigError(f"{name} is not set: set it to {SETTINGS[name]}.")


def setting_field(name: str) -> str:
    """The ``Settings`` field read from the environment variable ``name``."""
    for item in fields(Settings):
        if item.metadata.get("env") == name:
            return item.name
    raise KeyError(f"no Settings field is read from {name}")  # a bug in the caller, not config


def parse_hostport(text: str, default_port: int = 53) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``[::1]:5353`` or ``::1`` -> (ip, port)."""
    import ipaddress

    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{text!r} is not IP or IP:PORT")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{text!r} is not an IP address (IP or IP:PORT)") from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{whole!r} has no valid port")
    return int(text)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number: set it to {SETTINGS[name]}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0.")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            # The working directory's .env, as README says (load_dotenv's default searches
            # upwards from this module's folder instead).
            load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)
        env = os.environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    nameservers = tuple(
        parse_hostport(part) for part in (get("TRANSITION_NAMESERVERS") or "").split(",") if part
    )
    dns = DnsConfig(
        nameservers=nameservers,
        timeout=_number(env, "TRANSITION_DNS_TIMEOUT", 3.0),
        auth_port=int(_number(env, "TRANSITION_DNS_PORT", 53)),
        ca_bundle=get("TRANSITION_CA_BUNDLE"),
    )
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT={log_format!r}: use `text` or `json`.")
    return Settings(
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_client_id=get("SLACK_CLIENT_ID"),
        slack_client_secret=get("SLACK_CLIENT_SECRET"),
        slack_state_secret=get("SLACK_STATE_SECRET"),
        slack_api_url=get("SLACK_API_URL"),
        database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,  # storage picks the driver
        port=int(_number(env, "PORT", 3000)),
        dns=dns,
        poll_seconds=_number(env, "TRANSITION_POLL_SECONDS", 300.0),
        fast_poll_seconds=_number(env, "TRANSITION_FAST_POLL_SECONDS", 30.0),
        secret_key=get("TRANSITION_SECRET_KEY"),
        graph_url=(get("TRANSITION_GRAPH_URL") or "https://graph.microsoft.com").rstrip("/"),
        login_url=(get("TRANSITION_LOGIN_URL") or "https://login.microsoftonline.com").rstrip("/"),
        ca_bundle=get("TRANSITION_CA_BUNDLE"),
        log_format=log_format,
        log_level=(get("LOG_LEVEL") or "INFO").upper(),
    )
