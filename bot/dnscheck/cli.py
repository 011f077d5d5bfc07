"""``transition-bot check DOMAIN``: the audit in a terminal, or as JSON for scripts.

Exit status: 0 every required record is ok, 1 something must change, 2 an error (bad input,
NXDOMAIN, no reachable server) or records that could not be checked while nothing else must
change; every 2 comes with one line on stderr. With ``--json`` stdout always holds one object,
for bad input too: ``{"error": "invalid_input", "message": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from typing import Any

from rich.console import Console

from bot.core.domain import DomainError, parse_domain
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.local_autodiscover import as_row
from bot.dnscheck.local_query import check_local_autodiscover
from bot.dnscheck.model import Audit, DnsConfig
from bot.dnscheck.report import render, to_json
from bot.dnscheck.sources import Source, by_name, names_help
from bot.ops.config import ConfigError, load_settings, parse_hostport

EXIT_OK, EXIT_CHANGE, EXIT_ERROR = 0, 1, 2
INVALID_INPUT = "invalid_input"  # the "error" of --json for bad input (next to nxdomain, ...)


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
        "--source",
        metavar="NAME",
        default=None,
        help=f"where mail comes from today ({names_help()}); default: detected from MX and SPF",
    )
    parser.add_argument(
        "--internal-dns",
        metavar="IP[:PORT]",
        default=None,
        help="the company's internal DNS server: adds a local-autodiscover row",
    )
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


def source_arg(args: argparse.Namespace) -> Source | None:
    if args.source is None:
        return None
    source = by_name(args.source)
    if source is None:
        raise ConfigError(f"--source {args.source!r} is not known: use one of {names_help()}")
    return source


def internal_dns_arg(args: argparse.Namespace) -> str | None:
    if args.internal_dns is None:
        return None
    try:
        parse_hostport(args.internal_dns)
    except ConfigError:
        raise ConfigError(
            f"--internal-dns {args.internal_dns!r} is not an IP address (IP or IP:PORT)"
        ) from None
    return str(args.internal_dns).strip()


async def _audit(
    domain: str, config: DnsConfig, source: Source | None, internal: str | None
) -> Audit:
    hybrid = internal is not None or (source is not None and source.own_server)
    if internal is None:
        return await audit_domain(domain, config, source=source, hybrid=hybrid)
    audit, local = await asyncio.gather(
        audit_domain(domain, config, source=source, hybrid=hybrid),
        check_local_autodiscover(domain, internal, config.timeout),
    )
    if audit.error is not None and not audit.records:
        return audit
    return replace(audit, records=(*audit.records, as_row(local)))


def run(args: argparse.Namespace) -> int:
    try:
        domain = parse_domain(args.domain)
        config = dns_config(args)
        source = source_arg(args)
        internal = internal_dns_arg(args)
    except (DomainError, ConfigError) as exc:
        if args.json:  # a script reading stdout gets an object for every outcome
            _print_json({"error": INVALID_INPUT, "message": str(exc)})
        print(f"transition-bot check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    audit = asyncio.run(_audit(domain.ascii, config, source, internal))
    if args.json:
        _print_json(to_json(audit))
    elif audit.error is None or audit.records:
        _print_table(audit)
    if audit.error is not None:
        print(f"transition-bot check: {audit.error_message}", file=sys.stderr)
        return EXIT_ERROR
    if audit.must_change:
        return EXIT_CHANGE
    if audit.unknown_records:
        # nothing known to be wrong, but not everything could be checked: not a "change this"
        unknown = ", ".join(audit.unknown_records)
        print(
            f"transition-bot check: could not check {unknown} of {audit.display_domain}: "
            "not every authoritative server answered (nothing else must change); "
            "try again in a minute",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _print_table(audit: Audit) -> None:
    """The table at the terminal's width with coloured verdicts; plain text in a pipe (rich
    tells them apart, and honours NO_COLOR). Lines are wrapped here, never again by rich."""
    console = Console(highlight=False)
    console.print(render(audit, width=max(console.width, 60)), soft_wrap=True)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
