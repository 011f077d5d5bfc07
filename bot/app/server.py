"""The HTTP side: an aiohttp application serving Slack on one URL, health and metrics.

``init(settings)`` is the factory (used by ``transition-bot serve`` and by the tests' server
fixture). Long-lived things (database engine, scheduler and watch) are started and stopped by
``cleanup_ctx`` generators passed as ``contexts=``: each runs its setup before the first
request and its teardown, in reverse order, at shutdown.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp

from bot.app.assembly import build_app
from bot.app.heap import frozen_startup_heap
from bot.app.runtime import Runtime
from bot.core.limits import MAX_BODY_BYTES
from bot.jobs.background import background_context
from bot.jobs.shutdown import graceful_context, stop_taking_work
from bot.ops import metrics
from bot.ops.config import Settings
from bot.ops.logs import register_settings_secrets
from bot.slack.http_guard import GATE, Gate, observe_request, parse_slack_request, slack_guard
from bot.slack.install import add_routes as add_oauth_routes
from bot.slack.listener_tasks import LISTENER_TASKS, track_listeners
from storage.database import Database

SLACK_PATH = "/slack/events"
HEALTH_PING_SECONDS = 1.0  # within the readiness probe's timeout (deploy/deployment.yaml)

RUNTIME = web.AppKey("runtime", Runtime)
BOLT_APP = web.AppKey("bolt_app", AsyncApp)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def init(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    contexts: Sequence[CleanupContext] = (),
) -> web.Application:
    """The aiohttp application. Connects to nothing until it is started."""
    runtime = runtime or Runtime(settings=settings, database=Database(settings.database_url))
    register_settings_secrets(runtime.settings)  # never in a log line (bot.ops.logs)
    app = web.Application(middlewares=[slack_guard(SLACK_PATH)], client_max_size=MAX_BODY_BYTES)
    app[GATE] = Gate()
    app[RUNTIME] = runtime
    app[BOLT_APP] = build_app(runtime)
    app[LISTENER_TASKS] = track_listeners(app[BOLT_APP])  # awaited at shutdown
    app.router.add_post(SLACK_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics_view)
    add_oauth_routes(app, app[BOLT_APP])  # GET /slack/install, /slack/oauth_redirect (OAuth)
    if runtime.database is not None:  # migrate on start, then the scheduled jobs
        app.cleanup_ctx.append(runtime.database.cleanup_context())
        app.cleanup_ctx.append(background_context(runtime))
        app.cleanup_ctx.append(graceful_context(runtime))  # stops first: bot.jobs.shutdown
    app.on_shutdown.append(stop_taking_work)
    app.cleanup_ctx.extend(contexts)
    app.cleanup_ctx.append(frozen_startup_heap)  # last: once everything above has started
    return app


async def slack_events(request: web.Request) -> web.Response:
    """Commands, interactivity and events: Bolt verifies the signature and dispatches."""
    started = time.perf_counter()  # the request id, size and drain checks: bot.slack.http_guard
    bolt_request = await parse_slack_request(request)
    bolt_response = await request.app[BOLT_APP].async_dispatch(bolt_request)
    response = await to_aiohttp_response(bolt_response)
    observe_request(bolt_request, response.status, time.perf_counter() - started)
    return response


async def healthz(request: web.Request) -> web.Response:
    """Ready for Slack's requests: 200, or 503 with the reason (shutting down, or the database
    unreachable: an orchestrator then routes to other replicas until it is back)."""
    gate = request.app.get(GATE)
    if gate is not None and not gate.open:
        return web.json_response({"ok": False, "reason": "shutting down"}, status=503)
    database = request.app[RUNTIME].database
    if database is not None and not await database.ping(HEALTH_PING_SECONDS):
        return web.json_response({"ok": False, "reason": "database unreachable"}, status=503)
    return web.json_response({"ok": True})


async def livez(request: web.Request) -> web.Response:
    """Alive: the process serves HTTP. Never the database's state, so that an orchestrator's
    liveness probe restarts a hung process but not every replica during a database outage
    (readiness, ``/healthz``, takes them out of the Service meanwhile)."""
    return web.json_response({"ok": True})


async def metrics_view(request: web.Request) -> web.Response:
    body, content_type = metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})
