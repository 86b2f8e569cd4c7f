"""GitHub's REST API for the GitOps steps: the few calls they make, with the workflow's GITHUB_TOKEN (urllib only).

A workflow run gives GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SERVER_URL and GITHUB_RUN_ID; its step
passes GITHUB_TOKEN. The same variables let a step run locally against any repository.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import PipelineError


class GitHubError(PipelineError):
    """GitHub refused a call or could not be reached; `code` is its HTTP status (0 when unreachable)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class GitHub:
    """The REST calls of one repository: issues and their comments."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; its JSON answer. An error answer or no answer is a GitHubError naming the call."""
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
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise GitHubError(f"GitHub answered {exc.code} to {method} {path}: {reason(exc)}", exc.code) from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise GitHubError(f"cannot reach GitHub's API at {self.base}: {getattr(exc, 'reason', exc)}") from None

    def upsert_comment(self, number: int, body: str, marker: str) -> str:
        """Update the comment on issue or pull request `number` that carries `marker`, or create it; say which."""
        for comment in self.call("GET", f"/issues/{number}/comments?per_page=100"):
            if marker in comment.get("body", ""):
                self.call("PATCH", f"/issues/comments/{comment['id']}", {"body": body})
                return "updated"
        self.comment(number, body)
        return "created"

    def comment(self, number: int, body: str) -> dict[str, Any]:
        """Add a comment to issue or pull request `number`."""
        return self.call("POST", f"/issues/{number}/comments", {"body": body})

    def open_issues(self, label: str) -> list[dict[str, Any]]:
        """The open issues carrying `label`, newest first (pull requests left out)."""
        query = urllib.parse.urlencode({"state": "open", "labels": label, "per_page": 100})
        return [issue for issue in self.call("GET", f"/issues?{query}") if "pull_request" not in issue]

    def create_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        """Open an issue; GitHub creates a label that does not exist yet."""
        return self.call("POST", "/issues", {"title": title, "body": body, "labels": labels})

    def update_issue(self, number: int, title: str, body: str) -> dict[str, Any]:
        """Replace an issue's title and body."""
        return self.call("PATCH", f"/issues/{number}", {"title": title, "body": body})


def reason(exc: urllib.error.HTTPError) -> str:
    """GitHub's own message from an error answer, else the HTTP reason."""
    try:
        return str(json.loads(exc.read()).get("message") or exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def from_environment() -> GitHub | None:
    """The client of this workflow run's repository; None without GITHUB_TOKEN or GITHUB_REPOSITORY."""
    token, repository = os.environ.get("GITHUB_TOKEN"), os.environ.get("GITHUB_REPOSITORY")
    if not token or not repository:
        return None
    return GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), repository, token)


def run_url() -> str | None:
    """The address of this workflow run's page, or None outside GitHub Actions."""
    server, repository, run = (os.environ.get(f"GITHUB_{name}") for name in ("SERVER_URL", "REPOSITORY", "RUN_ID"))
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run}" if server and repository and run else None
