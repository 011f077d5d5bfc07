"""`transition-bot console`: a local chat shell over the same Bolt app.

Like errbot's text backend, the console is one more way in to the same core: it signs slash
commands, clicks and modal submissions exactly as Slack would send them and dispatches them
through the real app; an in-process stand-in for Slack's Web API prints what the bot posts.

- ``render``   Block Kit -> terminal text (pure)
- ``forms``    a modal's inputs and the ``state.values`` a submission carries (pure)
- ``payloads`` the signed bodies Slack sends: commands, block actions, view submissions (pure)
- ``local_slack`` Slack's Web API kept in memory, served on 127.0.0.1 (the tests' fake too)
- ``webapi``   the console's ``local_slack``: prints what the bot sends, remembers buttons and
              modals, and keeps channel messages between sessions (``messages`` shows them)
- ``session``  assembles settings, database, app and Web API; dispatches and waits for quiet
- ``shell``    the prompt: parses a line and calls the session
- ``cli``      the ``console`` subcommand
"""
