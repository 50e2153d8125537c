"""The approval gate over real HTTP (PyGithub → tests/fake_github.py) and real git history (GitPython).

Every test builds a small newsroom repository in tmp_path:

    root    ops    direct push: calendar.yaml's header (timezone, pushes:)
    PR #1   bob    content/2026/alpha (index.md + cover.png), then dave tightens its intro; merge commit
    PR #2   erin   content/2026/beta (index.md + chart.png); squash merge
    PR #3   bob    the calendar entry that pushes alpha and beta; rebase merge

and approves (or not) on the fake GitHub, whose `commits/{sha}/pulls` finds PRs the way GitHub does
(by branch commits, merge/squash commit, rebased commits). Supervisors: alice and carol.
"""

from __future__ import annotations

import socket
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fake_github import FakeGitHub
from git import Repo

from publisher.approval import ApprovalChecker, ApprovalError, NotApproved, PushApproval, judge_reviews
from publisher.calendar import parse_calendar

SUPERVISORS = ["alice", "carol"]
TOKEN = "ghs_fake_token_0123456789"
CALENDAR_HEAD = """\
# 内容日历：主管在 PR 里批准后生效。
timezone: Asia/Shanghai
pushes:
"""
ENTRY = """\
  - at: "2026-12-01 08:00"
    mode: mass
    articles: [2026/alpha, 2026/beta]
"""
ALPHA = """\
---
title: 阿尔法
author: 小王
cover: cover.png
---

第一段：我们做了一个新功能。

第二段：它怎么用。

第三段：下一步。
"""
BETA = """\
---
title: 贝塔
author: 小李
---

贝塔正文。

![图表](chart.png)
"""


def image_bytes(seed: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes((seed + i) % 256 for i in range(512))


@dataclass
class Newsroom:
    path: Path
    repo: Repo
    fake: FakeGitHub
    shas: dict[str, str] = field(default_factory=dict)  # name -> commit

    # -- git ------------------------------------------------------------------------------------

    def _env(self, login: str, committer: str | None = None) -> dict:
        committer = committer or login
        return {"GIT_AUTHOR_NAME": login.title(), "GIT_AUTHOR_EMAIL": f"{login}@example.com",
                "GIT_COMMITTER_NAME": committer.title(), "GIT_COMMITTER_EMAIL": f"{committer}@example.com"}

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(self, login: str, message: str, files: dict[str, str | bytes], name: str | None = None) -> str:
        self.write(files)
        self.repo.git.add("--", *files)
        with self.repo.git.custom_environment(**self._env(login)):
            self.repo.git.commit("-m", message)
        sha = self.repo.head.commit.hexsha
        if name:
            self.shas[name] = sha
        return sha

    def branch(self, name: str) -> None:
        self.repo.git.switch("-c", name, "main")

    def merge(self, branch: str, number: int, how: str = "merge", author: str = "bob") -> str:
        """Merge as GitHub's button does; returns the merge / squash commit (the last rebased one for rebase)."""
        self.repo.git.switch("main")
        with self.repo.git.custom_environment(**self._env(author, "github")):
            if how == "merge":
                self.repo.git.merge("--no-ff", branch, "-m", f"Merge pull request #{number} from acme/{branch}")
            elif how == "squash":
                self.repo.git.merge("--squash", branch)
                self.repo.git.commit("-m", f"{self.repo.git.log('-1', '--format=%s', branch)} (#{number})")
            else:  # rebase: the branch's commits replayed onto main with new shas
                base = self.repo.git.merge_base("main", branch)
                for sha in self.repo.git.rev_list("--reverse", f"{base}..{branch}").split():
                    self.repo.git.cherry_pick(sha)
        return self.repo.head.commit.hexsha

    def push(self) -> None:
        """What `git push` would tell GitHub: which commits exist, which are on the default branch."""
        self.fake.add_commits(self.repo.git.rev_list("main").split())
        self.fake.add_commits(self.repo.git.rev_list("--all").split(), on_default_branch=False)

    # -- GitHub ---------------------------------------------------------------------------------

    def approve(self, number: int, user: str, commit: str | None = None, state: str = "APPROVED") -> None:
        self.fake.add_review(number, user, state, commit or self.fake.pulls[number].head_sha)

    def checker(self, **overrides) -> ApprovalChecker:
        options = {"api_url": self.fake.api_url, "token": TOKEN, "repository": "acme/articles"} | overrides
        return ApprovalChecker(self.path, SUPERVISORS, **options)

    def lines(self) -> tuple[int, int]:
        text = (self.path / "calendar.yaml").read_text(encoding="utf-8")
        push = next(p for p in parse_calendar(text, "calendar.yaml").pushes if p.kind == "articles")
        return push.line, push.end_line

    def check(self, articles=("alpha", "beta"), checker: ApprovalChecker | None = None) -> PushApproval:
        checker = checker or self.checker()
        return checker.check_push([self.path / "content/2026" / a for a in articles], self.path / "calendar.yaml",
                                  self.lines())

    def refused(self, articles=("alpha", "beta")) -> str:
        with pytest.raises(NotApproved) as caught:
            self.check(articles)
        return str(caught.value)


@pytest.fixture
def fake():
    with FakeGitHub("acme/articles", token=TOKEN) as server:
        yield server


def build(tmp_path: Path, fake: FakeGitHub, *, authors: dict[int, str] | None = None) -> Newsroom:
    authors = {1: "bob", 2: "erin", 3: "bob"} | (authors or {})
    room = Newsroom(tmp_path / "newsroom", Repo.init(tmp_path / "newsroom", initial_branch="main"), fake)
    room.commit("ops", "Start the calendar", {"calendar.yaml": CALENDAR_HEAD}, name="root")

    room.branch("alpha")
    room.commit("bob", "Add alpha", {"content/2026/alpha/index.md": ALPHA,
                                     "content/2026/alpha/cover.png": image_bytes(1)}, name="alpha1")
    room.commit("dave", "Tighten alpha's intro", {"content/2026/alpha/index.md": ALPHA.replace(
        "我们做了一个新功能", "新功能上线了")}, name="alpha2")
    room.shas["merge1"] = room.merge("alpha", 1, "merge")
    fake.add_pull(1, author=authors[1], commits=[room.shas["alpha1"], room.shas["alpha2"]],
                  merge_commit_sha=room.shas["merge1"], title="Alpha article")

    room.branch("beta")
    room.commit("erin", "Add beta", {"content/2026/beta/index.md": BETA,
                                     "content/2026/beta/chart.png": image_bytes(2)}, name="beta1")
    room.shas["squash2"] = room.merge("beta", 2, "squash", author="erin")
    fake.add_pull(2, author=authors[2], commits=[room.shas["beta1"]], merge_commit_sha=room.shas["squash2"],
                  title="Beta article")

    room.branch("schedule")
    room.commit("bob", "Schedule alpha and beta", {"calendar.yaml": CALENDAR_HEAD + ENTRY}, name="entry0")
    room.shas["entry"] = room.merge("schedule", 3, "rebase")
    fake.add_pull(3, author=authors[3], commits=[room.shas["entry0"]], rebased=[room.shas["entry"]],
                  merge_commit_sha=room.shas["entry"], title="Schedule alpha and beta")
    room.push()
    return room


def approve_all(room: Newsroom) -> None:
    room.approve(1, "alice")
    room.approve(2, "carol")
    room.approve(3, "alice")


# -- the scenarios --------------------------------------------------------------------------------


def test_push_approved_by_supervisors_lists_the_prs_and_commits(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    room.approve(1, "alice", state="COMMENTED")  # a later comment does not cancel the approval
    room.approve(3, "Carol")  # logins compare case-insensitively

    approval = room.check()

    assert [pr["number"] for pr in approval.prs] == [1, 2, 3]
    assert approval.prs[0] == {"number": 1, "url": "https://github.com/acme/articles/pull/1",
                               "approvers": ["alice"], "head_sha": room.shas["alpha2"]}
    assert approval.prs[1]["approvers"] == ["carol"] and approval.prs[1]["head_sha"] == room.shas["beta1"]
    assert sorted(approval.prs[2]["approvers"]) == ["Carol", "alice"]
    # blame finds the branch commits of a merge, the squash commit and the rebased commit on main
    assert approval.commits == sorted({room.shas[n] for n in ("alpha1", "alpha2", "squash2", "entry")})
    assert all(seen.authorization == f"token {TOKEN}" for seen in fake.requests)


def test_approval_by_a_non_supervisor_is_not_enough(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    fake.pulls[1].reviews.clear()
    room.approve(1, "frank")

    message = room.refused()

    assert ("content/2026/alpha/index.md lines 1–6, 8–11; content/2026/alpha/cover.png: commit "
            f"{room.shas['alpha1'][:7]} 'Add alpha' came in through PR #1 (https://github.com/acme/articles/pull/1), "
            "which was approved only by frank, who is not a supervisor (supervisors: alice, carol).") in message
    assert f"content/2026/alpha/index.md line 7: commit {room.shas['alpha2'][:7]} 'Tighten alpha's intro'" in message
    assert "beta" not in message and "calendar.yaml" not in message


def test_a_supervisor_cannot_approve_their_own_pr(tmp_path, fake):
    room = build(tmp_path, fake, authors={2: "carol"})
    approve_all(room)  # PR #2's only approval is carol's, and carol opened it

    message = room.refused()

    assert message == (
        f"content/2026/beta/index.md lines 1–8; content/2026/beta/chart.png: commit {room.shas['squash2'][:7]} "
        "'Add beta (#2)' came in through PR #2 (https://github.com/acme/articles/pull/2), which was approved only "
        "by its author carol.")


def test_approval_of_an_older_head_does_not_cover_later_commits(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    fake.pulls[1].reviews.clear()
    room.approve(1, "alice", commit=room.shas["alpha1"])  # dave's commit came after the approval

    message = room.refused()

    assert (f"which was approved by alice on commit {room.shas['alpha1'][:7]}, but its final head is "
            f"{room.shas['alpha2'][:7]}: the later commits were not reviewed.") in message
    assert message.count("PR #1 (") == 2  # both commits of PR #1 (bob's and dave's) are named
    assert "PR #2" not in message and "PR #3" not in message


def test_changes_requested_after_an_approval_blocks(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    room.approve(3, "carol", state="CHANGES_REQUESTED")

    message = room.refused()

    assert message == (
        f"calendar.yaml lines 4–6: commit {room.shas['entry'][:7]} 'Schedule alpha and beta' came in through PR #3 "
        "(https://github.com/acme/articles/pull/3), where alice approved, then carol requested changes.")


def test_a_direct_push_is_named_with_its_lines(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    index = room.path / "content/2026/alpha/index.md"
    fixed = index.read_text(encoding="utf-8").replace("第二段：它怎么用。", "第二段：它这样用。")
    typo = room.commit("bob", "fix typo", {"content/2026/alpha/index.md": fixed})
    room.push()

    message = room.refused()

    assert message == (f"content/2026/alpha/index.md line 9: commit {typo[:7]} 'fix typo' reached main without a "
                       "pull request (a direct push); a supervisor must approve it in a PR.")


def test_a_calendar_entry_changed_without_review_is_refused_alone(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    text = (room.path / "calendar.yaml").read_text(encoding="utf-8")
    moved = room.commit("ops", "Move the push to 7:30", {"calendar.yaml": text.replace("08:00", "07:30")})
    room.push()

    message = room.refused()

    assert message == (f"calendar.yaml line 4: commit {moved[:7]} 'Move the push to 7:30' reached main without a "
                       "pull request (a direct push); a supervisor must approve it in a PR.")
    assert "content/" not in message


def test_one_unapproved_article_in_a_multi_article_push_is_the_only_one_named(tmp_path, fake):
    room = build(tmp_path, fake)
    room.approve(1, "alice")
    room.approve(3, "carol")  # PR #2 (beta) has no review at all

    message = room.refused()

    assert message == (
        f"content/2026/beta/index.md lines 1–8; content/2026/beta/chart.png: commit {room.shas['squash2'][:7]} "
        "'Add beta (#2)' came in through PR #2 (https://github.com/acme/articles/pull/2), which has no approval "
        "from a supervisor (supervisors: alice, carol).")
    assert room.check(articles=("alpha",)).prs[0]["number"] == 1  # alpha alone would go


# -- credentials, errors, cache -------------------------------------------------------------------


def test_missing_token_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/articles")

    with pytest.raises(ApprovalError) as caught:
        ApprovalChecker.from_environment(tmp_path, SUPERVISORS)

    message = str(caught.value)
    assert message.startswith("GITHUB_TOKEN is not set, so the approval check cannot ask GitHub")
    assert "set GITHUB_TOKEN to a token that can read the repository's pull requests" in message


def test_from_environment_reads_the_three_variables(tmp_path, fake, monkeypatch):
    room = build(tmp_path, fake)
    approve_all(room)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/articles")
    monkeypatch.setenv("GITHUB_API_URL", fake.api_url)

    checker = ApprovalChecker.from_environment(room.path, SUPERVISORS)

    assert [pr["number"] for pr in room.check(checker=checker).prs] == [1, 2, 3]


def test_a_rejected_token_is_an_approval_error_that_does_not_show_it(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    wrong = "ghp_wrong_secret_value_4711"

    with pytest.raises(ApprovalError) as caught:
        room.check(checker=room.checker(token=wrong))

    message = str(caught.value)
    assert "401" in message and "GITHUB_TOKEN" in message
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert wrong not in shown and TOKEN not in shown
    assert fake.requests[-1].authorization == f"token {wrong}"  # it was sent, and refused


def test_an_unknown_repository_says_what_to_check(tmp_path, fake):
    room = build(tmp_path, fake)

    with pytest.raises(ApprovalError, match="no repository acme/other .*check GITHUB_REPOSITORY"):
        room.check(checker=room.checker(repository="acme/other"))


def test_an_unreachable_api_is_an_approval_error(tmp_path, fake):
    room = build(tmp_path, fake)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    with pytest.raises(ApprovalError, match="could not reach the GitHub API at http://127.0.0.1"):
        room.check(checker=room.checker(api_url=f"http://127.0.0.1:{closed}", timeout=2))


def test_each_commit_and_pr_is_asked_once(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    checker = room.checker()

    room.check(checker=checker)
    # 4 commits (bob's and dave's in PR #1, the squash of PR #2, the rebased entry of PR #3): one
    # commits/{sha}/pulls each; 3 PRs: one reviews listing each; nothing else (no repo, commit or PR fetch)
    assert fake.count(r"/commits/[0-9a-f]{40}/pulls$") == 4
    assert fake.count(r"/pulls/\d+/reviews$") == 3
    assert len(fake.requests) == 7

    room.check(checker=checker)  # the same push again
    room.check(articles=("alpha",), checker=checker)  # another push sharing its commits
    assert len(fake.requests) == 7


def test_uncommitted_changes_are_not_published(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    index = room.path / "content/2026/alpha/index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("第三段", "第三段（改）"), encoding="utf-8")
    (room.path / "content/2026/beta/extra.png").write_bytes(image_bytes(3))

    message = room.refused()

    assert "content/2026/alpha/index.md line 11: changed since the last commit (not committed)" in message
    assert "content/2026/beta/extra.png: not committed to git" in message
    assert "PR #" not in message


def test_a_shallow_clone_is_refused_before_blaming(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    shallow = tmp_path / "shallow"
    Repo.clone_from(room.path.as_uri(), shallow, depth=1)
    checker = ApprovalChecker(shallow, SUPERVISORS, api_url=fake.api_url, token=TOKEN, repository="acme/articles")

    with pytest.raises(ApprovalError, match="shallow clone.*fetch-depth: 0"):
        checker.check_push([shallow / "content/2026/alpha"], shallow / "calendar.yaml", room.lines())
    assert fake.requests == []


def test_a_commit_github_does_not_have_is_refused(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    local = room.commit("bob", "Local only", {"content/2026/alpha/notes.md": "备注\n"})  # never pushed

    message = room.refused()

    assert (f"content/2026/alpha/notes.md line 1: commit {local[:7]} 'Local only' is not on GitHub "
            "(acme/articles): it was never pushed there") in message


def test_an_open_pr_is_not_a_merge(tmp_path, fake):
    room = build(tmp_path, fake)
    approve_all(room)
    room.branch("gamma")  # publishing from a PR's branch before it is merged
    draft = room.commit("bob", "Alpha addendum", {"content/2026/alpha/addendum.md": "补充\n"})
    fake.add_pull(4, author="bob", commits=[draft], merged=False)
    room.approve(4, "alice")
    room.push()

    message = room.refused()

    assert message == (
        f"content/2026/alpha/addendum.md line 1: commit {draft[:7]} 'Alpha addendum' did not reach the default "
        "branch through a merged pull request (PR #4 (https://github.com/acme/articles/pull/4) is still open); a "
        "supervisor must approve it in a PR that is merged.")


@pytest.mark.parametrize("reviews, head, approvers, problem", [
    ([("alice", "APPROVED", "h")], "h", ["alice"], ""),
    ([("alice", "APPROVED", "h"), ("alice", "COMMENTED", "h")], "h", ["alice"], ""),
    ([("alice", "DISMISSED", "h")], "h", [], ", where alice's approval was dismissed and no supervisor approved since"),
    ([("alice", "APPROVED", "h"), ("alice", "DISMISSED", "h")], "h", [], ", where alice's approval was dismissed"),
    ([("alice", "CHANGES_REQUESTED", "o"), ("alice", "APPROVED", "h")], "h", ["alice"], ""),
    ([("alice", "APPROVED", "h"), ("alice", "CHANGES_REQUESTED", "h")], "h", [],
     ", where alice approved, then requested changes"),
    ([("carol", "CHANGES_REQUESTED", "o"), ("ALICE", "APPROVED", "h")], "h", [],
     ", where carol requested changes and has not approved since (ALICE's later approval does not lift"),
    ([("bob", "CHANGES_REQUESTED", "h"), ("alice", "APPROVED", "h")], "h", ["alice"], ""),  # bob is no supervisor
    ([("alice", "PENDING", "h")], "h", [], ", which has no approval from a supervisor (supervisors: alice, carol)"),
    ([("frank", "APPROVED", "h"), ("dave", "APPROVED", "h")], "h", [],
     ", which was approved only by frank and dave, who are not supervisors (supervisors: alice, carol)"),
    ([("erin", "APPROVED", "h"), ("dave", "APPROVED", "h")], "h", [],
     ", which was approved only by dave, who is not a supervisor, and by its author erin (supervisors: alice, carol)"),
])
def test_review_rules(reviews, head, approvers, problem):
    got_approvers, got_problem = judge_reviews(reviews, author="erin", head_sha=head, supervisors=SUPERVISORS)
    assert got_approvers == approvers
    assert got_problem.startswith(problem)
    assert bool(got_problem) == bool(problem)


def test_fake_github_checks_the_authorization_header(fake):
    import requests

    url = f"{fake.api_url}/repos/acme/articles"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "token nope"}, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).json()["default_branch"] == "main"
