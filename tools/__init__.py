"""Tool families: one subpackage each, holding its domain logic and a thin MCP registration."""
