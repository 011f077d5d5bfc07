"""Background jobs on one APScheduler AsyncIOScheduler (bot.jobs.scheduler)."""
