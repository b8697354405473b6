"""Discord-specific pieces shared by the cogs: message sinks, answer controls, the answer flow, permissions."""
