"""Agents on other machines: the hub's driver for a project whose CLI runs on a remote
agent (``switchboard agent``), and the codec both ends use for what crosses the link."""
