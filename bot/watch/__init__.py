"""The background watch: pure change detection (``detect``) and its jobs (bot.jobs.watch)."""
