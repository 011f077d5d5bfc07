"""Block Kit rendering: one plain function per message, from loaded state to blocks.

No I/O and no Slack calls here; handlers and jobs send what these functions return.
``ids`` holds every action_id / callback_id the app's buttons and views use.
"""
