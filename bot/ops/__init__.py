"""Running it: settings, logs, metrics, secrets, TLS."""
