"""`make pr-comment`: post the report as one pull-request comment, updated on later pushes.

Uses GitHub's REST API with the workflow's GITHUB_TOKEN. When the token may not write (a pull
request from a fork), the report goes to the job summary instead, and the step still succeeds.
"""

import json
import os
import sys
from pathlib import Path

from .github import GitHubError, from_environment
from .pr_report import MARKER


def pull_request_number(event_path: str | None) -> int | None:
    """The pull request number from the workflow's event payload."""
    if not event_path or not Path(event_path).is_file():
        return None
    return json.loads(Path(event_path).read_text()).get("pull_request", {}).get("number")


def to_summary(report: str, reason: str) -> None:
    """Write the report to the job summary (or stdout outside Actions)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    note = f"\n\n_Not posted as a comment: {reason}._\n"
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(report + note)
    print(f"report written to the job summary: {reason}")


def main() -> int:
    """Post or update the comment; fall back to the job summary when that is not allowed."""
    report = Path(sys.argv[1] if len(sys.argv) > 1 else "report.md").read_text()
    number = pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
    github = from_environment()
    if number is None or github is None:
        to_summary(report, "no pull request or no GITHUB_TOKEN in this run")
        return 0
    try:
        print(f"comment {github.upsert_comment(number, report, MARKER)} on pull request #{number}")
    except GitHubError as exc:
        if exc.code in (403, 404):  # a fork's read-only token
            to_summary(report, f"GitHub answered {exc.code} (a pull request from a fork has a read-only token)")
            return 0
        print(f"error: the report comment was not posted: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
