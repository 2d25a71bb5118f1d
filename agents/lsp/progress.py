"""Agent step records -> work-done progress messages (planning, coding, compile attempt k,
testing, profiling, reporting).

A step record arrives when a node *finishes*, so each report says what was just done and
what runs now: after the planner the coder works, after the coder the tester compiles and
tests, after a passing test the profiler measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERCENT = {"planning": 5, "coding": 20, "testing": 45, "profiling": 75, "reporting": 95}


@dataclass
class ProgressTracker:
    """Follows one task's steps; ``advance`` returns the message and percentage to report."""

    attempt: int = 1
    phase: str = "planning"
    history: list[str] = field(default_factory=list)

    def begin_message(self) -> str:
        return "planning: reading the code and checking dependences"

    def advance(self, step: dict) -> tuple[str, int]:
        node, summary = step.get("node", "?"), " ".join(str(step.get("summary", "")).split())
        self.history.append(f"{node}: {summary}")
        if node == "planner":
            self.phase = "reporting" if summary.startswith("refuse") else "coding"
        elif node == "coder":
            if "rejected" in summary or "no code" in summary:
                self.attempt += 1
                self.phase = "coding"
            else:
                self.phase = "testing"
        elif node == "tester":
            if "passed" in summary and "back to the coder" not in summary:
                self.phase = "profiling"
            elif "back to the coder" in summary:
                self.attempt += 1
                self.phase = "coding"
            else:
                self.phase = "reporting"
        elif node in ("profiler", "report"):
            self.phase = "reporting"
        return f"{node}: {_short(summary)} — now {self._now()}", PERCENT[self.phase]

    def _now(self) -> str:
        if self.phase == "coding":
            return f"coding (attempt {self.attempt})"
        if self.phase == "testing":
            return f"compile attempt {self.attempt} and testing"
        if self.phase == "profiling":
            return "profiling (original vs candidate)"
        return self.phase


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
