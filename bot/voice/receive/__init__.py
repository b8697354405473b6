"""Voice receive: what discord.py lacks. RTP from the voice socket, decrypted and decoded into each member's audio."""
