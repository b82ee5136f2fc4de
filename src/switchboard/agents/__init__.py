"""Agent drivers: process supervision and the Claude Code CLI driver."""
