"""`make pr-comment`: post the report as one pull-request comment, updated on later pushes.

Uses GitHub's REST API with the workflow's GITHUB_TOKEN. When the token may not write (a pull
request from a fork), the report goes to the job summary instead, and the step still succeeds.
"""

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .pr_report import MARKER


class GitHub:
    """The few REST calls the comment needs."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def upsert_comment(self, number: int, body: str) -> str:
        """Update the comment that carries MARKER, or create it; return what was done."""
        for comment in self.call("GET", f"/issues/{number}/comments?per_page=100"):
            if MARKER in comment.get("body", ""):
                self.call("PATCH", f"/issues/comments/{comment['id']}", {"body": body})
                return "updated"
        self.call("POST", f"/issues/{number}/comments", {"body": body})
        return "created"


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
    token = os.environ.get("GITHUB_TOKEN")
    if number is None or not token:
        to_summary(report, "no pull request or no GITHUB_TOKEN in this run")
        return 0
    github = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), os.environ["GITHUB_REPOSITORY"], token)
    try:
        print(f"comment {github.upsert_comment(number, report)} on pull request #{number}")
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404):  # a fork's read-only token
            to_summary(report, f"GitHub answered {exc.code} (a pull request from a fork has a read-only token)")
            return 0
        print(f"error: GitHub answered {exc.code} to the report comment: {exc.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
