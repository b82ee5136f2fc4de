"""Switchboard: run Claude Code for your projects and put every run on the wire."""

__version__ = "0.1.0"
