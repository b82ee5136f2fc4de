"""The Claude Code CLI behind the agent seam: its process, stream-json and control
protocol, and everything else only this CLI knows."""
