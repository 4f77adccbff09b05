"""The studio-mcp process: settings, state store, lifespan, transports and CLI."""
