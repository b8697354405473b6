"""Operating the bot: metrics, the health and readiness endpoint, structured logs."""
