"""Talking to Slack: the Web API gateway (and, with the package layout, install and the edge)."""
