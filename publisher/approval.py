"""Approval gate: a push is published only when a supervisor approved everything in it on GitHub.

For one push (a calendar entry naming article folders) the commits that must be approved are found
in the local git history at HEAD:

- every line of an article's text files (`index.md`, other .md/.yaml/.html/.txt): the commits that
  introduced the current lines (`git blame`); any other file (images): the last commit that changed it;
- the calendar entry: `git blame -L start,end calendar.yaml` over exactly the entry's lines.

Blame runs on the files as they are on disk, so a line or file changed since HEAD is "not committed"
and never passes. A commit is approved when a pull request of the repository that was merged into the
default branch contains it (GitHub's `commits/{sha}/pulls`, which also finds the merge commit of a
squash merge and the commits a rebase merge wrote) and that pull request was approved by a supervisor
who is not its author, on its final head commit, with no supervisor's change request outstanding.

Every answer of GitHub is cached per commit and per pull request for the checker's lifetime.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import git
import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from urllib3.util.retry import Retry

DEFAULT_API_URL = "https://api.github.com"
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".yaml", ".yml", ".html", ".htm", ".txt"})
_ZERO = "0" * 40
_BLAME_HEADER = re.compile(rb"^([0-9a-f]{40}) (\d+) (\d+)(?: (\d+))?$")
_DECISIVE = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")  # COMMENTED and PENDING change nothing


@dataclass
class Evidence:
    """What made one commit acceptable."""

    commit: str
    pr_number: int
    pr_url: str
    approvers: list[str]
    head_sha: str


@dataclass
class PushApproval:
    """Recorded in the ledger by the caller."""

    prs: list[dict]  # [{number, url, approvers, head_sha}]: distinct PRs, sorted by number
    commits: list[str]  # every commit the push's lines and files come from, sorted


class NotApproved(Exception):
    """Something in the push did not reach main through a supervisor-approved pull request.

    str() is one sentence per offending commit (where, which commit, which PR, what is missing);
    `findings` has the same sentences as a list.
    """

    def __init__(self, findings: list[str]):
        super().__init__("\n".join(findings))
        self.findings = list(findings)


class ApprovalError(Exception):
    """GitHub could not be asked: the message says what to set or fix (and never shows the token)."""


@dataclass
class _Verdict:
    evidence: Evidence | None = None
    reason: str = ""  # why not, a phrase that follows "commit 1a2b3c4 'subject' "


@dataclass
class _Pull:
    number: int
    url: str
    author: str
    head_sha: str
    approvers: list[str] = field(default_factory=list)
    problem: str = ""  # a phrase that follows "PR #n (url)"; "" when approved


class ApprovalChecker:
    def __init__(self, repo_path: Path, supervisors: list[str], *, api_url: str, token: str, repository: str,
                 timeout: float = 20):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository or ""):
            raise ApprovalError(f"GITHUB_REPOSITORY must be 'owner/name' (for example acme/articles), found "
                                f"{repository!r}")
        if not token:
            raise ApprovalError("GITHUB_TOKEN is empty: set it to a token that can read this repository's pull "
                                "requests (in GitHub Actions: env GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} with "
                                "permissions contents: read, pull-requests: read)")
        self.repo_path = Path(repo_path)
        self.supervisors = [s.strip().lstrip("@") for s in supervisors if s and s.strip().lstrip("@")]
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.repository = repository
        self.timeout = timeout
        self._token = token
        self._github: Github | None = None
        self._repo = None
        self._git: git.Repo | None = None
        self._verdicts: dict[str, _Verdict] = {}
        self._pulls: dict[int, _Pull] = {}
        self._subjects: dict[str, str] = {}

    @classmethod
    def from_environment(cls, repo_path: Path, supervisors: list[str]) -> ApprovalChecker:
        """GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (default https://api.github.com)."""
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
        missing = [name for name, value in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository)) if not value]
        if missing:
            raise ApprovalError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, so the approval check cannot "
                "ask GitHub who approved what: set GITHUB_TOKEN to a token that can read the repository's pull "
                "requests and GITHUB_REPOSITORY to 'owner/name' (GitHub Actions sets GITHUB_REPOSITORY; pass the "
                "token with env GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} and permissions contents: read, "
                "pull-requests: read)")
        api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        return cls(repo_path, supervisors, api_url=api_url, token=token, repository=repository)

    # -- the check --------------------------------------------------------------------------------

    def check_push(self, article_dirs: list[Path], calendar_path: Path,
                   calendar_lines: tuple[int, int]) -> PushApproval:
        """The PRs that approved everything in the push; NotApproved / ApprovalError otherwise."""
        repo = self._local()
        # commit -> where its lines/files are, in the order found: [(relative path, [line numbers] | None)]
        places: dict[str, list[tuple[str, list[int] | None]]] = {}
        findings: list[str] = []
        for folder in article_dirs:
            self._article(repo, folder, places, findings)
        self._calendar(repo, calendar_path, calendar_lines, places, findings)

        evidence: dict[str, Evidence] = {}
        for sha, where in places.items():
            verdict = self._verdict(sha)
            if verdict.evidence is not None:
                evidence[sha] = verdict.evidence
            else:
                findings.append(f"{_where(where)}: commit {sha[:7]} '{self._subject(sha)}' {verdict.reason}.")
        if findings:
            raise NotApproved(findings)
        prs: dict[int, dict] = {}
        for item in evidence.values():
            prs.setdefault(item.pr_number, {"number": item.pr_number, "url": item.pr_url,
                                            "approvers": list(item.approvers), "head_sha": item.head_sha})
        return PushApproval(prs=[prs[n] for n in sorted(prs)], commits=sorted(evidence))

    # -- local history ----------------------------------------------------------------------------

    def _local(self) -> git.Repo:
        if self._git is None:
            try:
                self._git = git.Repo(self.repo_path, search_parent_directories=True)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                raise ApprovalError(f"{self.repo_path} is not a git repository: the approval check reads who "
                                    "changed what from git history; publish from a clone of the repository") from None
            if self._git.bare or not self._git.head.is_valid():
                raise ApprovalError(f"{self.repo_path} has no commits checked out: publish from a clone of the "
                                    "repository's default branch")
            if self._git.git.rev_parse("--is-shallow-repository").strip() == "true":
                raise ApprovalError("the repository is a shallow clone, so git blame would credit old lines to the "
                                    "oldest fetched commit: fetch the whole history (actions/checkout with "
                                    "fetch-depth: 0, or git fetch --unshallow)")
        return self._git

    def _relative(self, repo: git.Repo, path: Path) -> str:
        root = Path(repo.working_tree_dir).resolve()
        full = path if path.is_absolute() else self.repo_path / path
        try:
            return full.resolve().relative_to(root).as_posix()
        except ValueError:
            raise ApprovalError(f"{path} is outside the git repository {root}") from None

    def _article(self, repo: git.Repo, folder: Path, places: dict, findings: list[str]) -> None:
        rel = self._relative(repo, Path(folder))
        tracked = set(_lines(repo.git.ls_tree("-r", "-z", "--name-only", "HEAD", "--", rel)))
        full = Path(repo.working_tree_dir) / rel
        on_disk = {p.relative_to(repo.working_tree_dir).as_posix() for p in full.rglob("*")
                   if p.is_file() or p.is_symlink()} if full.is_dir() else set()
        changed = set(_lines(repo.git.diff("--name-only", "-z", "--no-renames", "HEAD", "--", rel)))
        for path in sorted(tracked | on_disk, key=lambda p: (p.count("/"), not p.endswith("/index.md"), p)):
            if path not in on_disk:  # deleted since HEAD: nothing of it can be published
                continue
            if path not in tracked:
                findings.append(f"{path}: not committed to git; only what reached main through a pull request "
                                "a supervisor approved can be published.")
            elif Path(path).suffix.lower() in TEXT_SUFFIXES:
                self._blame(repo, path, None, places, findings)
            elif path in changed:
                findings.append(f"{path}: changed since the last commit (not committed); only what reached main "
                                "through a pull request a supervisor approved can be published.")
            else:
                sha = repo.git.log("-1", "--format=%H", "HEAD", "--", path).strip()
                places.setdefault(sha, []).append((path, None))

    def _calendar(self, repo: git.Repo, calendar_path: Path, lines: tuple[int, int], places: dict,
                  findings: list[str]) -> None:
        rel = self._relative(repo, Path(calendar_path))
        start, end = int(lines[0]), int(lines[1])
        full = Path(repo.working_tree_dir) / rel
        data = full.read_bytes() if full.is_file() else b""
        count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        if not 1 <= start <= end <= count:
            findings.append(f"{rel} lines {start}–{end}: no such lines (the file has {count}); the calendar "
                            "changed while publishing, so nothing of this entry can be checked.")
            return
        if not repo.git.ls_tree("HEAD", "--", rel).strip():
            findings.append(f"{rel} {_span(list(range(start, end + 1)))}: not committed to git; only a calendar "
                            "entry that reached main through a pull request a supervisor approved is published.")
            return
        self._blame(repo, rel, (start, end), places, findings)

    def _blame(self, repo: git.Repo, path: str, span: tuple[int, int] | None, places: dict,
               findings: list[str]) -> None:
        """Blame the file as it is on disk (uncommitted lines come back as the all-zero commit)."""
        args = ["--porcelain"] + ([f"-L{span[0]},{span[1]}"] if span else []) + ["--", path]
        raw = repo.git.blame(*args, stdout_as_string=False)
        by_commit: dict[str, list[int]] = {}
        for line in raw.split(b"\n"):
            match = _BLAME_HEADER.match(line)
            if match:
                by_commit.setdefault(match[1].decode(), []).append(int(match[3]))
        for sha, numbers in by_commit.items():
            if sha == _ZERO:
                findings.append(f"{path} {_span(numbers)}: changed since the last commit (not committed); only what "
                                "reached main through a pull request a supervisor approved can be published.")
            else:
                places.setdefault(sha, []).append((path, numbers))

    def _subject(self, sha: str) -> str:
        if sha not in self._subjects:
            self._subjects[sha] = self._local().commit(sha).summary
        return self._subjects[sha]

    # -- GitHub -----------------------------------------------------------------------------------

    def _remote(self):
        if self._repo is None:
            retry = Retry(total=3, backoff_factor=0.5, status_forcelist=(502, 503, 504),
                          allowed_methods=frozenset({"GET"}), raise_on_status=False)
            options = {"auth": Auth.Token(self._token), "base_url": self.api_url, "timeout": self.timeout,
                       "per_page": 100, "retry": retry}
            try:
                self._github = Github(**options, lazy=True)  # PyGithub >= 2.6: no request until one is needed
            except TypeError:
                self._github = Github(**options)
            self._repo = self._ask(lambda: self._github.get_repo(self.repository), "the repository")
        return self._repo

    def _verdict(self, sha: str) -> _Verdict:
        if sha not in self._verdicts:
            self._verdicts[sha] = self._judge_commit(sha)
        return self._verdicts[sha]

    def _judge_commit(self, sha: str) -> _Verdict:
        repo = self._remote()
        try:
            pulls = self._ask(lambda: list(repo.get_commit(sha).get_pulls()), f"the pull requests of commit {sha[:7]}")
        except _NoSuchCommit:
            return _Verdict(reason=f"is not on GitHub ({self.repository}): it was never pushed there, so no pull "
                                   "request can contain it")
        merged, other = [], []
        for pull in pulls:
            merged_into_default = pull.merged_at is not None and pull.base.ref == self._default_branch(pull)
            (merged if merged_into_default else other).append(pull)
        if not merged:
            if not other:
                return _Verdict(reason="reached main without a pull request (a direct push); a supervisor must "
                                       "approve it in a PR")
            why = "; ".join(self._not_merged(p) for p in other)
            return _Verdict(reason=f"did not reach the default branch through a merged pull request ({why}); a "
                                   "supervisor must approve it in a PR that is merged")
        judged = []
        for pull in sorted(merged, key=lambda p: p.number):  # one approved PR is enough: ask no further
            item = self._judge_pull(pull)
            judged.append(item)
            if not item.problem:
                return _Verdict(evidence=Evidence(commit=sha, pr_number=item.number, pr_url=item.url,
                                                  approvers=list(item.approvers), head_sha=item.head_sha))
        return _Verdict(reason="came in through " + "; and through ".join(
            f"PR #{p.number} ({p.url}){p.problem}" for p in judged))

    def _default_branch(self, pull) -> str:
        try:  # every pull request GitHub lists carries its base repository, default branch included
            branch = pull.base.repo.default_branch
        except (AttributeError, GithubException):
            branch = None
        return branch or self._ask(lambda: self._remote().default_branch, "the repository's default branch")

    def _not_merged(self, pull) -> str:
        state = "still open" if pull.state == "open" else "closed without merging"
        if pull.merged_at is not None:
            state = f"merged into '{pull.base.ref}', not the default branch"
        return f"PR #{pull.number} ({pull.html_url}) is {state}"

    def _judge_pull(self, pull) -> _Pull:
        if pull.number in self._pulls:
            return self._pulls[pull.number]
        author = pull.user.login
        item = _Pull(number=pull.number, url=pull.html_url, author=author, head_sha=pull.head.sha)
        reviews = self._ask(lambda: [(r.user.login if r.user else "", r.state, r.commit_id)
                                     for r in pull.get_reviews()], f"the reviews of PR #{pull.number}")
        item.approvers, item.problem = judge_reviews(reviews, author=author, head_sha=item.head_sha,
                                                     supervisors=self.supervisors)
        self._pulls[pull.number] = item
        return item

    def _ask(self, call, what: str):
        """Run one PyGithub call; every way it can fail becomes an ApprovalError that says what to fix."""
        try:
            return call()
        except BadCredentialsException:
            message = (f"GitHub rejected GITHUB_TOKEN (401 Bad credentials) when reading {what} at {self.api_url}: "
                       "the token is wrong, expired or revoked; set GITHUB_TOKEN to a valid token that can read "
                       f"{self.repository}'s pull requests")
        except RateLimitExceededException as exc:
            message = (f"GitHub's API rate limit is used up ({exc.status}) when reading {what}: wait for it to reset "
                       "(the push is tried again on the next run) or use a token with a higher limit")
        except UnknownObjectException:
            message = (f"GitHub found no repository {self.repository} at {self.api_url} (404 when reading {what}), "
                       "or GITHUB_TOKEN cannot see it: check GITHUB_REPOSITORY, GITHUB_API_URL and the token's "
                       "access to the repository")
        except GithubException as exc:
            if exc.status == 422 and "no commit found" in _github_message(exc).lower():
                raise _NoSuchCommit() from None
            if exc.status == 403:
                message = (f"GitHub refused to show {what} (403: {_github_message(exc)}): GITHUB_TOKEN needs read "
                           f"access to {self.repository}'s contents and pull requests (in GitHub Actions: "
                           "permissions contents: read, pull-requests: read)")
            else:
                message = (f"GitHub answered {exc.status} ({_github_message(exc)}) when reading {what} at "
                           f"{self.api_url}; try again later")
        except requests.RequestException as exc:
            message = (f"could not reach the GitHub API at {self.api_url} when reading {what} "
                       f"({type(exc).__name__}): check GITHUB_API_URL and the network")
        raise ApprovalError(self._scrub(message)) from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


class _NoSuchCommit(Exception):
    pass


def judge_reviews(reviews: list[tuple[str, str, str | None]], *, author: str, head_sha: str,
                  supervisors: list[str]) -> tuple[list[str], str]:
    """(supervisors whose approval counts, problem) for a PR's reviews (login, state, commit_id), oldest first.

    The problem is "" when the PR is approved, otherwise a clause that follows "PR #n (url)" (", which
    …" or ", where …"). A PR is approved when a supervisor other than its author approved its final
    head commit and no supervisor's latest decisive review (approved, changes requested, dismissed)
    requests changes; a COMMENTED review changes nothing and a DISMISSED review counts for nothing.
    """
    keys = {s.lower() for s in supervisors}
    author_key = author.lower()

    def supervisor(login: str) -> bool:
        return login.lower() in keys and login.lower() != author_key

    latest: dict[str, tuple[int, str, str, str | None]] = {}  # login -> (position, login, state, commit)
    for position, (login, state, commit) in enumerate(reviews):
        if state in _DECISIVE and login:
            latest[login.lower()] = (position, login, state, commit)
    decisive = sorted(latest.values())
    approvals = [r for r in decisive if r[2] == "APPROVED"]
    valid = [r for r in approvals if supervisor(r[1]) and r[3] == head_sha]
    blockers = [r for r in decisive if r[2] == "CHANGES_REQUESTED" and r[1].lower() in keys]
    listing = ", ".join(supervisors) or "none configured"
    if blockers:
        who = _names([r[1] for r in blockers])
        first = blockers[0][0]
        before = _unique(login for position, (login, state, _) in enumerate(reviews)
                         if state == "APPROVED" and supervisor(login) and position < first)
        if before == [blockers[0][1]] and len(blockers) == 1:
            return [], f", where {who} approved, then requested changes"
        if before:
            return [], f", where {_names(before)} approved, then {who} requested changes"
        if valid:
            return [], (f", where {who} requested changes and has not approved since ({_names([r[1] for r in valid])}"
                        "'s later approval does not lift another supervisor's request)")
        return [], f", where {who} requested changes and no supervisor approved"
    if valid:
        return [r[1] for r in valid], ""
    stale = [r for r in approvals if supervisor(r[1])]
    if stale:
        reviewed = stale[-1][3] or "an unknown commit"
        return [], (f", which was approved by {_names([r[1] for r in stale])} on commit {reviewed[:7]}, but its "
                    f"final head is {head_sha[:7]}: the later commits were not reviewed")
    by_author = [r[1] for r in approvals if r[1].lower() == author_key]
    others = [r[1] for r in approvals if r[1].lower() not in keys and r[1].lower() != author_key]
    if others or by_author:
        parts = []
        if others:
            parts.append(f"{_names(others)}, who {'is not a supervisor' if len(others) == 1 else 'are not supervisors'}")
        if by_author:
            parts.append(f"its author {by_author[0]}")
        suffix = f" (supervisors: {listing})" if others else ""
        return [], f", which was approved only by {', and by '.join(parts)}{suffix}"
    dismissed = [r[1] for r in decisive if r[2] == "DISMISSED" and supervisor(r[1])]
    if dismissed:
        return [], f", where {_names(dismissed)}'s approval was dismissed and no supervisor approved since"
    return [], f", which has no approval from a supervisor (supervisors: {listing})"


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def _names(names: list[str]) -> str:
    names = _unique(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _github_message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(data or "no message")


def _lines(output: str) -> list[str]:
    return [item for item in output.split("\0") if item]


def _span(numbers: list[int]) -> str:
    """'line 3', 'lines 3–9' or 'lines 3–9, 12, 15–16'."""
    numbers = sorted(set(numbers))
    ranges: list[list[int]] = []
    for number in numbers:
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges)
    return f"line {text}" if len(numbers) == 1 else f"lines {text}"


def _where(places: list[tuple[str, list[int] | None]]) -> str:
    merged: dict[str, list[int] | None] = {}
    for path, numbers in places:
        if numbers is None:
            merged[path] = None
        elif merged.get(path, []) is not None:
            merged[path] = [*merged.get(path, []), *numbers]
    return "; ".join(path if numbers is None else f"{path} {_span(numbers)}" for path, numbers in merged.items())
