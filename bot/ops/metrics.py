"""Prometheus metrics, served as text on ``GET /metrics``.

The metric objects are module-level (prometheus-client's own model: one registry per process);
creating them connects to nothing.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

SLACK_REQUESTS = Counter(
    "transition_slack_requests_total",
    "Slack requests received, by kind (command, action, view, event) and outcome",
    ["kind", "outcome"],
)
ACK_LATENCY = Histogram(
    "transition_ack_latency_seconds",
    "Time from receiving a Slack request to sending its HTTP response",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
POLLS = Counter("transition_polls_total", "Background polls of a tenant, by outcome", ["outcome"])
DNS_QUERY_LATENCY = Histogram(
    "transition_dns_query_seconds",
    "Latency of one DNS query made by an audit",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0),
)
ANNOUNCEMENTS = Counter(
    "transition_announcements_total",
    "Announcements: sent, failed (given up for good), retried (an attempt failed, tried again)",
    ["outcome"],
)
OUTBOX_DEPTH = Gauge("transition_outbox_depth", "Announcements waiting in the outbox")
OUTBOX_OLDEST_AGE = Gauge(
    "transition_outbox_oldest_age_seconds",
    "Age of the oldest announcement waiting in the outbox (0 when none waits)",
)
SLACK_API_ERRORS = Counter(
    "transition_slack_api_errors_total",
    "Slack Web API errors by method and error",
    ["method", "error"],
)
SCHEDULER_LAG = Histogram(
    "transition_scheduler_lag_seconds",
    "How late a scheduled job started compared with when it was due",
    buckets=(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
