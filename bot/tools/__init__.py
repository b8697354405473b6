"""Tools the model may call while it answers: built-in ones, the channel's own memory, and MCP servers' tools."""
