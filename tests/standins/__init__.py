"""Local stand-ins for services this machine cannot reach, served on 127.0.0.1."""
