"""Command-line entry points: ``ellora-agent`` (one task) and ``ellora`` (everything else)."""
