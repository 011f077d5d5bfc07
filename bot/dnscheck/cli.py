"""``transition-bot check DOMAIN``: the audit in a terminal, or as JSON for scripts.

Exit status: 0 every required record is ok, 1 something must change (or is not known yet),
2 an error (bad input, NXDOMAIN, no reachable server), with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.config import ConfigError, load_settings, parse_hostport
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import DnsConfig
from bot.dnscheck.report import render_text, to_json
from bot.domain import DomainError, parse_domain

EXIT_OK, EXIT_CHANGE, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", help="the mail domain, an e-mail address or a URL")
    parser.add_argument(
        "--nameserver",
        action="append",
        metavar="IP[:PORT]",
        default=None,
        help="resolver to ask first (repeatable; default TRANSITION_NAMESERVERS or the system's)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for one DNS answer"
    )
    parser.add_argument(
        "--dns-port",
        type=int,
        default=None,
        metavar="N",
        help="port of the authoritative servers (default 53; labs and tests only)",
    )


def dns_config(args: argparse.Namespace) -> DnsConfig:
    """Command-line switches over the environment's settings."""
    base = load_settings().dns
    nameservers = base.nameservers
    if args.nameserver:
        nameservers = tuple(
            parse_hostport(part) for arg in args.nameserver for part in arg.split(",") if part
        )
    timeout = base.timeout if args.timeout is None else args.timeout
    port = base.auth_port if args.dns_port is None else args.dns_port
    if timeout <= 0:
        raise ConfigError("--timeout must be greater than 0")
    if not 0 < port < 65536:
        raise ConfigError("--dns-port must be between 1 and 65535")
    return DnsConfig(nameservers=nameservers, timeout=timeout, auth_port=port)


def run(args: argparse.Namespace) -> int:
    try:
        domain = parse_domain(args.domain)
        config = dns_config(args)
    except (DomainError, ConfigError) as exc:
        print(f"transition-bot check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    audit = asyncio.run(audit_domain(domain.ascii, config))
    if args.json:
        print(json.dumps(to_json(audit), indent=2, ensure_ascii=False))
    elif audit.error is None or audit.records:
        print(render_text(audit))
    if audit.error is not None:
        print(f"transition-bot check: {audit.error_message}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CHANGE if audit.needs_change else EXIT_OK
