"""Approval enforced by the publisher, end to end: the CLI, the sandbox and a fake GitHub, all over HTTP."""

from __future__ import annotations

import json

import git
import pytest
from conftest import run_cli, write
from fake_github import FakeGitHub
from test_publish import env_for, ledger_record, make_site

from publisher.wechat.sandbox import start_sandbox


@pytest.fixture
def site(tmp_path):
    root = make_site(tmp_path / "site")
    pyproject = root / "pyproject.toml"
    write(pyproject, pyproject.read_text() + 'supervisors = ["alice"]\n')
    repo = git.Repo(root)
    repo.git.commit("-am", "supervisors", author="Tech <t@example.com>")
    return root


@pytest.fixture
def services(tmp_path):
    sandbox = start_sandbox(tmp_path / "sandbox")
    github = FakeGitHub().start()
    yield sandbox, github
    github.close()
    sandbox.stop()


def run_publish(site, sandbox, github, *extra):
    env = {**env_for(sandbox), "GITHUB_ACTIONS": "true", "GITHUB_API_URL": github.api_url,
           "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.repository}
    return run_cli("publish", "--now", "2026-12-01 08:05", "--format", "json", *extra, cwd=site, env=env)


def test_in_actions_a_direct_push_is_not_published_and_the_run_says_why(site, services):
    sandbox, github = services
    shas = [c.hexsha for c in git.Repo(site).iter_commits()]
    github.add_commits(shas)
    outcome = run_publish(site, sandbox, github)
    assert outcome.returncode == 1
    push = json.loads(outcome.stdout)["pushes"][0]
    assert push["result"] == "failed" and "not approved" in push["detail"]
    assert "without a pull request" in push["detail"] and "content/2026/first/index.md" in push["detail"]
    assert sandbox.admin.calls()["total"] == 0  # nothing was uploaded or drafted
    assert github.token not in outcome.stdout + outcome.stderr


def test_an_approved_pr_publishes_and_the_ledger_names_the_approver(site, services):
    sandbox, github = services
    repo = git.Repo(site)
    shas = [c.hexsha for c in reversed(list(repo.iter_commits()))]
    github.add_commits(shas)
    github.add_pull(7, author="writer", commits=shas)
    github.add_review(7, "alice", "APPROVED", shas[-1])
    outcome = run_publish(site, sandbox, github)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert json.loads(outcome.stdout)["pushes"][0]["result"] == "published"
    approval = ledger_record(site, "2026_first")["approval"]
    assert approval["prs"][0]["number"] == 7 and approval["prs"][0]["approvers"] == ["alice"]


def test_outside_actions_the_check_is_off_and_the_output_says_so(site, tmp_path):
    sandbox = start_sandbox(tmp_path / "sandbox2")
    try:
        outcome = run_cli("publish", "--now", "2026-12-01 08:05", cwd=site, env=env_for(sandbox))
    finally:
        sandbox.stop()
    assert outcome.returncode == 0
    assert "approval check: off" in outcome.stdout


def test_required_approval_without_supervisors_is_a_settings_error(site, services):
    sandbox, github = services
    write(site / "pyproject.toml", "[tool.publisher]\n")
    outcome = run_publish(site, sandbox, github)
    assert outcome.returncode == 2 and "supervisors" in outcome.stderr
