"""Test-wide plugins: real BIND, real databases, a fake Slack Web API at the edge."""

pytest_plugins: list[str] = [
]
