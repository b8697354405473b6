"""discord.py extensions; each module here is loaded by the bot's setup_hook."""
