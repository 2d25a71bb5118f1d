"""One-line user errors: what was wrong, with which input, and what to do."""

from __future__ import annotations

import sys


class UserError(Exception):
    """An error the user can fix; printed as one line, exit status 2 unless given."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def report_user_error(program: str, error: Exception, exit_code: int = 2) -> int:
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"{program}: error: {message}", file=sys.stderr)
    return getattr(error, "exit_code", exit_code)
