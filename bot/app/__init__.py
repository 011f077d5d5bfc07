"""Assembly: the Bolt app, the aiohttp server and its long-lived objects, Socket Mode."""
