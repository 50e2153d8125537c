"""A small local stand-in for the parts of the GitHub REST API that the approval check reads.

It serves, over real HTTP on 127.0.0.1 (port chosen by the OS), exactly the endpoints PyGithub calls
for `publisher.approval`:

    GET /repos/{owner}/{repo}                        the repository (default_branch)
    GET /repos/{owner}/{repo}/commits/{sha}          one commit
    GET /repos/{owner}/{repo}/commits/{sha}/pulls    pull requests associated with a commit
    GET /repos/{owner}/{repo}/pulls/{number}         one pull request
    GET /repos/{owner}/{repo}/pulls/{number}/reviews its reviews, oldest first

with GitHub's JSON shapes (the fields PyGithub and the checker read, and their usual neighbours),
GitHub's pagination (`per_page`, `page`, a `Link` header) and GitHub's errors: 401 "Bad credentials"
without a valid `Authorization: token …` / `Bearer …` header, 404 for another repository or an
unknown pull request, 422 "No commit found for SHA" for a commit GitHub does not have.

Like GitHub, `commits/{sha}/pulls` finds a pull request by any commit of its branch, by its
`merge_commit_sha` (a merge or squash commit) and by the commits a rebase merge wrote onto the base
branch; for a commit on the default branch it lists only the merged pull requests that brought it
there, otherwise the open and merged ones associated with it.

A test builds the scenario (`add_pull`, `add_review`, `add_commits`), reads `api_url`, and counts
what was asked in `requests`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

_EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class FakePull:
    number: int
    author: str
    head_sha: str
    commits: list[str]  # the branch's commits, oldest first; the last is the head
    base: str
    merged: bool
    merge_commit_sha: str | None
    rebased: list[str]  # the commits a rebase merge wrote onto the base branch
    title: str
    state: str  # open | closed
    created_at: datetime
    merged_at: datetime | None
    reviews: list[dict] = field(default_factory=list)

    def shas(self) -> set[str]:
        return {*self.commits, *self.rebased, *([self.merge_commit_sha] if self.merge_commit_sha else [])}


class FakeGitHub:
    def __init__(self, repository: str = "acme/articles", *, token: str = "ghs_fake_token_0123456789",
                 default_branch: str = "main"):
        self.owner, self.name = repository.split("/")
        self.repository = repository
        self.token = token
        self.default_branch = default_branch
        self.pulls: dict[int, FakePull] = {}
        self.known_commits: set[str] | None = None  # None: every sha exists; else others answer 422
        self.main_commits: set[str] = set()  # commits on the default branch (for commits/{sha}/pulls)
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._review_ids = 80_000_000

    # -- scenario ---------------------------------------------------------------------------------

    def add_commits(self, shas, *, on_default_branch: bool = True) -> None:
        """Commits GitHub knows (pushed); those on the default branch list only merged PRs."""
        if self.known_commits is None:
            self.known_commits = set()
        self.known_commits.update(shas)
        if on_default_branch:
            self.main_commits.update(shas)

    def add_pull(self, number: int, *, author: str, commits: list[str], merged: bool = True,
                 merge_commit_sha: str | None = None, rebased: list[str] | None = None,
                 base: str | None = None, title: str = "", state: str | None = None) -> FakePull:
        created = _EPOCH + timedelta(hours=number)
        pull = FakePull(number=number, author=author, head_sha=commits[-1], commits=list(commits),
                        base=base or self.default_branch, merged=merged, merge_commit_sha=merge_commit_sha,
                        rebased=list(rebased or []), title=title or f"Pull request {number}",
                        state=state or ("closed" if merged else "open"), created_at=created,
                        merged_at=created + timedelta(hours=1) if merged else None)
        with self._lock:
            self.pulls[number] = pull
        return pull

    def add_review(self, number: int, user: str, state: str, commit_id: str,
                   submitted_at: datetime | None = None) -> dict:
        """A review as GitHub lists it; state APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING."""
        pull = self.pulls[number]
        with self._lock:
            self._review_ids += 1
            when = submitted_at or pull.created_at + timedelta(minutes=5 * (len(pull.reviews) + 1))
            review = {"id": self._review_ids, "user": user, "state": state, "commit_id": commit_id,
                      "submitted_at": None if state == "PENDING" else when}
            pull.reviews.append(review)
        return review

    def count(self, pattern: str = "") -> int:
        """Requests whose path matches the regular expression (all requests when empty)."""
        return sum(1 for seen in self.requests if re.search(pattern, seen.path))

    # -- server -----------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def log_message(self, format, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-github", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP -------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        authorization = handler.headers.get("Authorization")
        with self._lock:
            self.requests.append(Seen("GET", parts.path, query, authorization))
        if not self._authorised(authorization):
            self._send(handler, 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                      "status": "401"})
            return
        prefix = f"/repos/{self.owner}/{self.name}"
        path = parts.path.rstrip("/")
        if not path.lower().startswith(prefix.lower()):
            self._not_found(handler)
            return
        rest = path[len(prefix):]
        with self._lock:
            if rest == "":
                self._send(handler, 200, self._repo_json())
            elif match := re.fullmatch(r"/commits/([0-9a-fA-F]{7,40})", rest):
                sha = self._resolve(match[1])
                if sha is None:
                    self._no_commit(handler, match[1])
                else:
                    self._send(handler, 200, self._commit_json(sha))
            elif match := re.fullmatch(r"/commits/([0-9a-fA-F]{7,40})/pulls", rest):
                sha = self._resolve(match[1])
                if sha is None:
                    self._no_commit(handler, match[1])
                else:
                    self._paginate(handler, parts.path, query, [self._pull_json(p) for p in self._pulls_of(sha)])
            elif (match := re.fullmatch(r"/pulls/(\d+)", rest)) and int(match[1]) in self.pulls:
                self._send(handler, 200, self._pull_json(self.pulls[int(match[1])], full=True))
            elif (match := re.fullmatch(r"/pulls/(\d+)/reviews", rest)) and int(match[1]) in self.pulls:
                pull = self.pulls[int(match[1])]
                self._paginate(handler, parts.path, query, [self._review_json(pull, r) for r in pull.reviews])
            else:
                self._not_found(handler)

    def _authorised(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        return scheme.lower() in ("token", "bearer") and value.strip() == self.token

    def _resolve(self, sha: str) -> str | None:
        sha = sha.lower()
        candidates = self.known_commits if self.known_commits is not None else {
            s for p in self.pulls.values() for s in p.shas()}
        matches = [c for c in candidates if c.startswith(sha)]
        if len(matches) == 1:
            return matches[0]
        if self.known_commits is None and len(sha) == 40:
            return sha
        return None

    def _pulls_of(self, sha: str) -> list[FakePull]:
        associated = [p for p in self.pulls.values() if sha in p.shas()]
        if sha in self.main_commits:  # on the default branch: the merged PRs that brought it there
            merged = [p for p in associated if p.merged and p.base == self.default_branch]
            associated = merged
        else:
            associated = [p for p in associated if p.merged or p.state == "open"]
        return sorted(associated, key=lambda p: p.number)

    def _paginate(self, handler, path: str, query: dict, items: list) -> None:
        per_page = max(1, min(100, int(query.get("per_page", ["30"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
                links.append(f'<{self.api_url}{path}?{urlencode({"per_page": per_page, "page": number})}>; '
                             f'rel="{rel}"')
        self._send(handler, 200, chunk, {"Link": ", ".join(links)} if links else None)

    def _send(self, handler, status: int, body, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(raw)))
        handler.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        handler.send_header("X-RateLimit-Limit", "5000")
        handler.send_header("X-RateLimit-Remaining", str(max(0, 5000 - len(self.requests))))
        handler.send_header("X-RateLimit-Reset", str(int(datetime.now(UTC).timestamp()) + 3600))
        handler.send_header("X-RateLimit-Resource", "core")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def _not_found(self, handler) -> None:
        self._send(handler, 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                                  "status": "404"})

    def _no_commit(self, handler, sha: str) -> None:
        self._send(handler, 422, {"message": f"No commit found for SHA: {sha}",
                                  "documentation_url": "https://docs.github.com/rest/commits/commits",
                                  "status": "422"})

    # -- JSON shapes ------------------------------------------------------------------------------

    def _user_json(self, login: str) -> dict:
        user_id = 1000 + sum(ord(c) for c in login)
        return {"login": login, "id": user_id, "node_id": f"U_{user_id}",
                "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
                "url": f"{self.api_url}/users/{login}", "html_url": f"https://github.com/{login}",
                "type": "User", "site_admin": False}

    def _repo_json(self) -> dict:
        return {"id": 424242, "node_id": "R_424242", "name": self.name, "full_name": self.repository,
                "private": True, "owner": self._user_json(self.owner),
                "html_url": f"https://github.com/{self.repository}",
                "url": f"{self.api_url}/repos/{self.repository}",
                "pulls_url": f"{self.api_url}/repos/{self.repository}/pulls{{/number}}",
                "default_branch": self.default_branch, "visibility": "private", "fork": False,
                "created_at": "2026-01-05T02:00:00Z", "updated_at": "2026-11-20T02:00:00Z",
                "pushed_at": "2026-11-20T02:00:00Z"}

    def _commit_json(self, sha: str) -> dict:
        url = f"{self.api_url}/repos/{self.repository}/commits/{sha}"
        return {"sha": sha, "node_id": f"C_{sha[:12]}", "url": url,
                "html_url": f"https://github.com/{self.repository}/commit/{sha}",
                "commit": {"message": "", "url": f"{self.api_url}/repos/{self.repository}/git/commits/{sha}"},
                "parents": [], "files": [], "stats": {"additions": 0, "deletions": 0, "total": 0}}

    def _ref_json(self, ref: str, sha: str, login: str) -> dict:
        return {"label": f"{login}:{ref}", "ref": ref, "sha": sha, "user": self._user_json(login),
                "repo": self._repo_json()}

    def _pull_json(self, pull: FakePull, full: bool = False) -> dict:
        base_url = f"{self.api_url}/repos/{self.repository}"
        data = {
            "url": f"{base_url}/pulls/{pull.number}", "id": 9_000_000 + pull.number,
            "node_id": f"PR_{pull.number}", "html_url": f"https://github.com/{self.repository}/pull/{pull.number}",
            "number": pull.number, "state": pull.state, "locked": False, "title": pull.title,
            "user": self._user_json(pull.author), "body": "", "labels": [],
            "created_at": _iso(pull.created_at), "updated_at": _iso(pull.merged_at or pull.created_at),
            "closed_at": _iso(pull.merged_at) if pull.merged_at else None,
            "merged_at": _iso(pull.merged_at) if pull.merged_at else None,
            "merge_commit_sha": pull.merge_commit_sha, "draft": False,
            "commits_url": f"{base_url}/pulls/{pull.number}/commits",
            "review_comments_url": f"{base_url}/pulls/{pull.number}/comments",
            "statuses_url": f"{base_url}/statuses/{pull.head_sha}",
            "head": self._ref_json(f"pr-{pull.number}", pull.head_sha, pull.author),
            "base": self._ref_json(pull.base, pull.merge_commit_sha or pull.head_sha, self.owner),
            "author_association": "MEMBER", "auto_merge": None,
        }
        if full:
            data |= {"merged": pull.merged, "mergeable": None, "rebaseable": None, "mergeable_state": "unknown",
                     "merged_by": self._user_json(self.owner) if pull.merged else None,
                     "comments": 0, "review_comments": 0, "maintainer_can_modify": False,
                     "commits": len(pull.commits), "additions": 1, "deletions": 0, "changed_files": 1}
        return data

    def _review_json(self, pull: FakePull, review: dict) -> dict:
        html = f"https://github.com/{self.repository}/pull/{pull.number}#pullrequestreview-{review['id']}"
        data = {"id": review["id"], "node_id": f"PRR_{review['id']}", "user": self._user_json(review["user"]),
                "body": "", "state": review["state"], "html_url": html,
                "pull_request_url": f"{self.api_url}/repos/{self.repository}/pulls/{pull.number}",
                "author_association": "MEMBER", "commit_id": review["commit_id"],
                "_links": {"html": {"href": html},
                           "pull_request": {"href": f"{self.api_url}/repos/{self.repository}/pulls/{pull.number}"}}}
        if review["submitted_at"] is not None:
            data["submitted_at"] = _iso(review["submitted_at"])
        return data
