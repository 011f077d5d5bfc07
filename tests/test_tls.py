"""One SSL context for every HTTPS fetch: system CAs plus TRANSITION_CA_BUNDLE."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from bot.app.runtime import build_web_client
from bot.ops.config import load_settings
from bot.ops.tls import ssl_context


def test_the_bundle_is_trusted_beside_the_system_cas(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = ssl_context(str(bundle))
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    subjects = [c.get("subject") for c in context.get_ca_certs()]
    assert len(subjects) == len(ssl_context(None).get_ca_certs()) + 1
    assert ssl_context(str(bundle)) is context  # built once per bundle


def test_slack_clients_and_the_audit_use_the_same_context(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    settings = load_settings({"TRANSITION_CA_BUNDLE": str(bundle)}, dotenv=False)
    assert settings.dns.ca_bundle == str(bundle)  # the MTA-STS fetch's
    assert build_web_client(settings).ssl is ssl_context(str(bundle))  # every Slack client's
