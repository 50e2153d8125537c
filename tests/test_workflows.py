"""The GitHub workflows: their safety properties, and their `run:` steps executed locally.

The steps run with bash in a clone of a sample site, in an environment like a runner's (GITHUB_ACTIONS,
GITHUB_EVENT_PATH with a synthetic event, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_ENV), with the
workflow's own `env:` and `if:` expressions evaluated against that event, secrets, vars and inputs.
`uses:` steps (checkout, setup-python, upload-artifact) and the install steps (scripts/setup.sh,
sudo apt-get) are skipped: this machine is set up already. WeChat is the sandbox over HTTP; GitHub's
API (for the approval check) is tests/fake_github.py; `curl` and `gh` are stand-ins on PATH that
answer without the internet and record how they were called.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from publisher.wechat.sandbox import SandboxAccount, start_sandbox

WORKFLOWS = REPO / ".github" / "workflows"
REPOSITORY = "acme/articles"
TOKEN = "ghs_fake_token_0123456789"
SANDBOX_SECRETS = {"WECHAT_APP_ID": "wxsandbox0000000001", "WECHAT_APP_SECRET": "sandbox-secret-0000000000000000"}
SAME_REPO_ONLY = "github.event.pull_request.head.repo.full_name == github.repository"
EGRESS_IP = "203.0.113.7"  # TEST-NET-3: what the stand-in curl answers


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


def run_scripts(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                yield job_id, step


def all_workflows() -> dict[str, dict]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


# ---- safety properties ----------------------------------------------------------------------------


def test_the_three_workflows_exist():
    assert {"check.yml", "publish.yml", "schedule.yml"} <= set(all_workflows())


def test_no_pull_request_target_anywhere():
    for name, workflow in all_workflows().items():
        assert "pull_request_target" not in triggers(workflow), name
        code = [line for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()
                if not line.strip().startswith("#")]
        assert not any("pull_request_target" in line for line in code), name


def test_no_expressions_inside_run_scripts():
    """Untrusted values reach scripts through env: only (no template injection); most of all github.event.*."""
    for name, workflow in all_workflows().items():
        for job_id, step in run_scripts(workflow):
            assert "github.event" not in step["run"], (name, job_id, step.get("name"))
            assert "${{" not in step["run"], (name, job_id, step.get("name"))


def test_check_runs_on_pull_request_without_secrets_outside_the_same_repo_job():
    workflow = load("check.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    assert "secrets." not in json.dumps({k: v for k, v in workflow.items() if k != "jobs"})
    for job_id, job in workflow["jobs"].items():
        if "secrets." in json.dumps(job):
            assert job.get("if") == SAME_REPO_ONLY, f"{job_id} uses secrets but also runs for forks"
            assert job.get("environment") == "wechat"
    check = workflow["jobs"]["check"]
    assert "secrets." not in json.dumps(check) and check["permissions"] == {"contents": "read"}
    checkout = next(s for s in check["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_publish_is_one_run_at_a_time_never_cancelled_in_the_wechat_environment():
    workflow = load("publish.yml")
    assert set(triggers(workflow)) == {"push", "workflow_dispatch"}
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    assert inputs["send_missed"]["type"] == "boolean" and inputs["now"]["required"] is False
    assert workflow["concurrency"] == {"group": "publish-${{ vars.WECHAT_ACCOUNT || 'main' }}",
                                       "cancel-in-progress": False}
    job = workflow["jobs"]["publish"]
    assert job["environment"] == "wechat"
    assert job["runs-on"] == "${{ vars.PUBLISH_RUNNER || 'ubuntu-latest' }}"
    assert job["permissions"] == {"contents": "write", "pull-requests": "read"}
    publish = next(s for s in job["steps"] if "publisher publish" in s.get("run", ""))
    assert "--require-approval" in publish["run"]
    assert publish["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    for name in ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_API_BASE"):
        assert publish["env"][name] == f"${{{{ secrets.{name} }}}}"


def test_schedule_only_dispatches_and_has_no_secrets():
    workflow = load("schedule.yml")
    assert set(triggers(workflow)) == {"schedule", "workflow_dispatch"}
    assert "secrets." not in json.dumps(workflow)
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "write"}
    scripts = [step["run"] for step in job["steps"]]
    assert all(script.startswith("gh workflow ") for script in scripts)
    assert "publisher" not in json.dumps(workflow)


def test_permissions_are_empty_by_default_and_actions_pinned_by_sha():
    for name, workflow in all_workflows().items():
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, (name, job_id)
        for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
            if "uses:" in line and not line.strip().startswith("#"):
                assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), (name, line)


def test_codeowners_cover_content_and_calendar():
    rules = [line.split() for line in (REPO / ".github/CODEOWNERS").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    owners = {rule[0]: rule[1:] for rule in rules}
    assert owners["/content/"] and owners["/calendar.yaml"]


# ---- a local runner -------------------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    skipped: str = ""  # why it did not run
    returncode: int | None = None
    output: str = ""
    summary: str = ""
    env: dict = field(default_factory=dict)


class Expressions:
    """Enough of GitHub's expression language for our workflows: contexts, literals, ==, !=, !, &&, ||,
    and the status functions. A context or function we do not know fails the test."""

    def __init__(self, github: dict, secrets: dict, variables: dict, inputs: dict):
        self.contexts = {"github": github, "secrets": secrets, "vars": variables, "inputs": inputs}
        self.failed = False

    def substitute(self, text) -> str:
        if not isinstance(text, str):
            return _text(text)
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(self.evaluate(m.group(1))), text)

    def condition(self, text) -> bool:
        if isinstance(text, bool):
            return text
        expression = text.strip()
        if expression.startswith("${{") and expression.endswith("}}"):
            expression = expression[3:-2]
        status = re.search(r"\b(always|cancelled|success|failure)\(\)", expression)
        return bool(self.evaluate(expression)) and (status is not None or not self.failed)

    def evaluate(self, expression: str):
        expression = expression.strip()
        for operator in ("||", "&&"):
            parts = _split(expression, operator)
            if len(parts) > 1:
                values = [self.evaluate(part) for part in parts]
                for value in values:
                    if (operator == "||") == bool(value):
                        return value
                return values[-1]
        for operator in ("==", "!="):
            parts = _split(expression, operator)
            if len(parts) == 2:
                left, right = (self.evaluate(part) for part in parts)
                return (_loose(left) == _loose(right)) == (operator == "==")
        if expression.startswith("!"):
            return not self.evaluate(expression[1:])
        if expression.startswith("'") and expression.endswith("'"):
            return expression[1:-1].replace("''", "'")
        if expression in ("true", "false"):
            return expression == "true"
        functions = {"always()": True, "cancelled()": False, "success()": not self.failed,
                     "failure()": self.failed}
        if expression in functions:
            return functions[expression]
        head, *path = expression.split(".")
        assert head in self.contexts, f"the test's runner does not know the expression '{expression}'"
        value = self.contexts[head]
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value


def _split(expression: str, operator: str) -> list[str]:
    parts, quoted, start, index = [], False, 0, 0
    while index < len(expression):
        if expression[index] == "'":
            quoted = not quoted
        elif not quoted and expression.startswith(operator, index):
            parts.append(expression[start:index])
            index += len(operator)
            start = index
            continue
        index += 1
    return [*parts, expression[start:]]


def _loose(value):
    return "" if value is None else value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_install_step(script: str) -> str:
    if "scripts/setup.sh" in script:
        return "install step (this machine is set up)"
    if script.lstrip().startswith("sudo "):
        return "system packages (this machine has them)"
    return ""


class Runner:
    """Runs one job's steps like a GitHub-hosted runner would, locally."""

    def __init__(self, tmp: Path, workspace: Path):
        self.tmp, self.workspace = tmp, workspace
        self.bin = tmp / "runner-bin"
        self.bin.mkdir(exist_ok=True)
        self.calls = tmp / "stand-in-calls.log"
        _script(self.bin / "publisher", f'exec "{sys.executable}" -m publisher "$@"')
        _script(self.bin / "curl", f'echo "curl $*" >> "{self.calls}"\necho {EGRESS_IP}')
        _script(self.bin / "gh", f'echo "gh $* GH_REPO=$GH_REPO GH_TOKEN=${{GH_TOKEN:+set}}" >> "{self.calls}"')
        (tmp / "home").mkdir(exist_ok=True)

    def stand_in_calls(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def run(self, workflow_name: str, job_id: str, *, event_name: str, event: dict, secrets: dict | None = None,
            variables: dict | None = None, inputs: dict | None = None, env: dict | None = None) -> list[StepRun]:
        workflow = load(workflow_name)
        job = workflow["jobs"][job_id]
        event_path = self.tmp / f"event-{event_name}.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        sha = _git(self.workspace, "rev-parse", "HEAD")
        ref = {"pull_request": "refs/pull/1/merge"}.get(event_name, "refs/heads/main")
        github = {"event_name": event_name, "event": event, "repository": REPOSITORY, "token": TOKEN,
                  "ref": ref, "ref_name": ref.rsplit("/", 1)[-1], "sha": sha,
                  "base_ref": event.get("pull_request", {}).get("base", {}).get("ref", ""),
                  "head_ref": event.get("pull_request", {}).get("head", {}).get("ref", "")}
        expressions = Expressions(github, secrets or {}, variables or {}, inputs or {})
        if "if" in job and not expressions.condition(job["if"]):
            return [StepRun(job_id, skipped=f"job condition false: {job['if']}")]
        python_dir = Path(sys.executable).parent
        base_env = {
            "PATH": os.pathsep.join([str(self.bin), str(python_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(self.tmp / "home"), "LANG": "C.UTF-8", "PYTHONPATH": str(REPO),
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(self.tmp),
            "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_SHA": sha,
            "GITHUB_REF": ref, "GITHUB_REF_NAME": github["ref_name"], "GITHUB_BASE_REF": github["base_ref"],
            "GITHUB_HEAD_REF": github["head_ref"], "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_RUN_ID": "1", "GITHUB_JOB": job_id,
        }
        base_env.update(env or {})
        for scope in (workflow.get("env") or {}, job.get("env") or {}):
            base_env.update({key: expressions.substitute(value) for key, value in scope.items()})
        runs = []
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            if "uses" in step:
                runs.append(StepRun(name, skipped=f"uses {step['uses'].split('@')[0]}"))
                continue
            if reason := is_install_step(step["run"]):
                runs.append(StepRun(name, skipped=reason))
                continue
            if not expressions.condition(step.get("if", "success()")):
                runs.append(StepRun(name, skipped=f"condition false: {step.get('if', 'success()')}"))
                continue
            runs.append(self._run_step(index, name, step, base_env, expressions))
            if runs[-1].returncode != 0 and not step.get("continue-on-error"):
                expressions.failed = True
        return runs

    def _run_step(self, index: int, name: str, step: dict, base_env: dict, expressions: Expressions) -> StepRun:
        files = {key: self.tmp / f"step{index}-{key.lower()}" for key in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT",
                                                                          "GITHUB_ENV")}
        for path in files.values():
            path.write_text("")
        env = {**base_env, **{key: str(path) for key, path in files.items()}}
        env.update({key: expressions.substitute(value) for key, value in (step.get("env") or {}).items()})
        script = self.tmp / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail"] if step.get("shell") == "bash" else ["bash", "-e"]
        completed = subprocess.run([*shell, str(script)], cwd=self.workspace, env=env, capture_output=True,
                                   text=True, timeout=300)
        for line in files["GITHUB_ENV"].read_text().splitlines():  # later steps see what this one exported
            key, _, value = line.partition("=")
            base_env[key] = value
        return StepRun(name, returncode=completed.returncode, output=completed.stdout + completed.stderr,
                       summary=files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"), env=env)


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Writer", "GIT_AUTHOR_EMAIL": "w@example.com",
           "GIT_COMMITTER_NAME": "Writer", "GIT_COMMITTER_EMAIL": "w@example.com"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout.strip()


def step(runs: list[StepRun], text: str) -> StepRun:
    return next(r for r in runs if text in r.name)


def clone_as_runner(site: Path, tmp: Path) -> tuple[Path, Path]:
    """A bare `origin` holding the site, and a full clone of it as actions/checkout leaves it (fetch-depth 0)."""
    origin = tmp / "origin.git"
    _git(tmp, "clone", "-q", "--bare", str(site), str(origin))
    workspace = tmp / "workspace"
    _git(tmp, "clone", "-q", str(origin), str(workspace))
    return origin, workspace


@pytest.fixture
def sandbox(tmp_path):
    running = start_sandbox(tmp_path / "sandbox", SandboxAccount())
    yield running
    running.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _site(tmp_path: Path, supervisors: bool = True) -> tuple[Path, list[str]]:
    """test_publish's sample site, plus a second commit naming the supervisors: (site, its commits)."""
    from test_publish import make_site

    site = make_site(tmp_path / "site")
    if supervisors:
        pyproject = site / "pyproject.toml"
        pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'supervisors = ["boss"]\n', encoding="utf-8")
        _git(site, "commit", "-q", "-am", "supervisors")
    return site, _git(site, "rev-list", "--reverse", "HEAD").split()


def _push_event(commit: str) -> dict:
    return {"ref": "refs/heads/main", "after": commit, "repository": {"full_name": REPOSITORY,
                                                                       "default_branch": "main"}}


def _dispatch_event(inputs: dict) -> dict:
    return {"inputs": inputs, "ref": "refs/heads/main", "repository": {"full_name": REPOSITORY,
                                                                        "default_branch": "main"}}


def _publish_secrets(sandbox) -> dict:
    return {**SANDBOX_SECRETS, "WECHAT_API_BASE": sandbox.base_url}


def _sent(sandbox) -> dict:
    counts = sandbox.admin.calls()["counts"]
    return {endpoint: counts.get(endpoint, 0) for endpoint in ("draft/add", "freepublish/submit",
                                                              "message/mass/sendall")}


# ---- publish.yml ----------------------------------------------------------------------------------


def test_publish_workflow_publishes_an_approved_push_and_pushes_the_ledger(tmp_path, sandbox):
    fake_github = pytest.importorskip("fake_github", reason="tests/fake_github.py (the approval tests' GitHub)")
    site, commits = _site(tmp_path)
    origin, workspace = clone_as_runner(site, tmp_path)
    runner = Runner(tmp_path, workspace)
    with fake_github.FakeGitHub(REPOSITORY, token=TOKEN) as github:
        github.add_commits(commits)
        github.add_pull(1, author="writer", commits=commits)
        github.add_review(1, "boss", "APPROVED", commits[-1])
        inputs = {"now": "2026-12-01 08:05", "send_missed": False}
        runs = runner.run("publish.yml", "publish", event_name="workflow_dispatch", event=_dispatch_event(inputs),
                          secrets=_publish_secrets(sandbox), inputs=inputs, env={"GITHUB_API_URL": github.api_url})
        assert [r.skipped.split(" ")[0] for r in runs[:3]] == ["uses", "uses", "install"]
        egress = step(runs, "Egress IP")
        assert egress.returncode == 0 and EGRESS_IP in egress.output and EGRESS_IP in egress.summary
        assert "WeChat sees the relay's address" in egress.output  # WECHAT_API_BASE is set
        publish = step(runs, "Publish")
        assert publish.returncode == 0, publish.output
        assert "approval check: on (supervisors: boss)" in publish.output
        assert f"to WeChat through {sandbox.base_url}" in publish.output  # not the embedded sandbox
        assert publish.env["GITHUB_TOKEN"] == TOKEN and publish.env["WECHAT_API_BASE"] == sandbox.base_url
        assert _sent(sandbox) == {"draft/add": 1, "freepublish/submit": 1, "message/mass/sendall": 0}
        assert github.count(r"/pulls/1/reviews") >= 1

        # the ledger went to origin, with the approval on record
        record_path = next(p for p in _git(origin, "ls-tree", "-r", "--name-only", "publisher-ledger").split()
                           if "/pushes/2026_first" in p)
        record = json.loads(_git(origin, "show", f"publisher-ledger:{record_path}"))
        assert record["status"] == "published"
        assert record["approval"]["prs"][0]["approvers"] == ["boss"]

        # run again (a retry, or the next scheduled run): nothing is sent twice
        runs = runner.run("publish.yml", "publish", event_name="workflow_dispatch", event=_dispatch_event(inputs),
                          secrets=_publish_secrets(sandbox), inputs=inputs, env={"GITHUB_API_URL": github.api_url})
        assert step(runs, "Publish").returncode == 0
        assert _sent(sandbox) == {"draft/add": 1, "freepublish/submit": 1, "message/mass/sendall": 0}


def test_publish_workflow_on_push_runs_with_no_inputs(tmp_path, sandbox):
    """A push to main: no inputs, the real clock; the site's December pushes are not due or are missed."""
    site, commits = _site(tmp_path)
    _, workspace = clone_as_runner(site, tmp_path)
    runs = Runner(tmp_path, workspace).run("publish.yml", "publish", event_name="push", event=_push_event(commits[-1]),
                                           secrets=_publish_secrets(sandbox))
    publish = step(runs, "Publish")
    assert "--now" not in publish.output and publish.env["PUBLISH_NOW"] == "" and publish.env["SEND_MISSED"] == ""
    assert publish.returncode in (0, 1), publish.output
    assert "Traceback" not in publish.output
    assert _sent(sandbox)["freepublish/submit"] == 0 and _sent(sandbox)["message/mass/sendall"] == 0


def test_publish_workflow_refuses_what_it_cannot_prove_approved(tmp_path, sandbox):
    """GitHub unreachable (or the approval check not there): the push waits, says why, and nothing is sent."""
    site, commits = _site(tmp_path)
    _, workspace = clone_as_runner(site, tmp_path)
    inputs = {"now": "2026-12-01 08:05", "send_missed": False}
    runs = Runner(tmp_path, workspace).run(
        "publish.yml", "publish", event_name="workflow_dispatch", event=_dispatch_event(inputs),
        secrets=_publish_secrets(sandbox), inputs=inputs,
        env={"GITHUB_API_URL": f"http://127.0.0.1:{_closed_port()}"})
    publish = step(runs, "Publish")
    assert publish.returncode == 1, publish.output
    assert "not approved" in publish.output, publish.output
    assert _sent(sandbox) == {"draft/add": 0, "freepublish/submit": 0, "message/mass/sendall": 0}


def test_publish_workflow_without_supervisors_stops_with_the_setting_to_add(tmp_path, sandbox):
    site, commits = _site(tmp_path, supervisors=False)
    _, workspace = clone_as_runner(site, tmp_path)
    inputs = {"now": "2026-12-01 08:05", "send_missed": False}
    runs = Runner(tmp_path, workspace).run("publish.yml", "publish", event_name="workflow_dispatch",
                                           event=_dispatch_event(inputs), secrets=_publish_secrets(sandbox),
                                           inputs=inputs)
    publish = step(runs, "Publish")
    assert publish.returncode == 2 and "supervisors" in publish.output, publish.output
    assert _sent(sandbox)["draft/add"] == 0


def test_publish_workflow_without_credentials_fails_instead_of_using_the_sandbox(tmp_path):
    site, commits = _site(tmp_path)
    _, workspace = clone_as_runner(site, tmp_path)
    runs = Runner(tmp_path, workspace).run("publish.yml", "publish", event_name="push", event=_push_event(commits[-1]),
                                           secrets={})
    publish = step(runs, "Publish")
    assert publish.returncode == 1
    assert "::error::WECHAT_APP_ID and WECHAT_APP_SECRET must be set" in publish.output
    assert "sandbox" not in publish.output
    egress = step(runs, "Egress IP")  # it runs before, and says the address must be whitelisted
    assert "must whitelist this address" in egress.output


# ---- check.yml ------------------------------------------------------------------------------------


def _pull_request_event(head_repo: str) -> dict:
    return {"action": "synchronize", "number": 7,
            "pull_request": {"number": 7, "title": "新文章",
                             "head": {"ref": "writer/second", "repo": {"full_name": head_repo}},
                             "base": {"ref": "main", "repo": {"full_name": REPOSITORY}}},
            "repository": {"full_name": REPOSITORY, "default_branch": "main"}}


@pytest.fixture
def pull_request(tmp_path) -> Path:
    """A runner's checkout of a PR: origin/main is the sample site, HEAD changes one article and the calendar."""
    site, _ = _site(tmp_path)
    _, workspace = clone_as_runner(site, tmp_path)
    _git(workspace, "switch", "-q", "-c", "writer/second")
    index = workspace / "content/2026/second/index.md"
    text = index.read_text(encoding="utf-8")
    index.write_text(text.replace("title: 文章second", "title: " + "一个长得超过了微信限制的标题" * 3) +
                     "\n新增的一段。\n", encoding="utf-8")
    calendar = workspace / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8") + '  - at: "2026-12-05 21:00"\n    mode: mass\n'
                        "    articles: [2026/second]\n", encoding="utf-8")
    _git(workspace, "commit", "-q", "-am", "second: new title, scheduled again")
    return workspace


def test_check_workflow_annotates_the_diff_and_writes_the_report(tmp_path, pull_request):
    runner = Runner(tmp_path, pull_request)
    runs = runner.run("check.yml", "check", event_name="pull_request", event=_pull_request_event(REPOSITORY))
    assert [r.skipped.split(" ")[0] for r in runs if r.skipped] == ["uses", "uses", "system", "install", "uses"]

    check = step(runs, "Check")
    assert check.returncode == 1  # an error fails the job …
    annotations = [line for line in check.output.splitlines() if line.startswith("::")]
    assert any(line.startswith("::error file=content/2026/second/index.md,line=2,title=front-matter/title-too-long::")
               for line in annotations), check.output
    assert not any("content/2026/first" in line for line in annotations)

    report = step(runs, "Report")  # … and the report still runs (if: !cancelled())
    assert report.returncode == 0, report.output
    assert report.env["BASE_REF"] == "main"
    summary = report.summary
    assert "| `2026/second` |" in summary and "`2026/first`" not in summary.split("### Pushes")[0]
    assert "2026-12-05 21:00 | 2026-12-05 13:00 UTC" in summary
    assert "`content/2026/second/index.md:2`" in summary and "title-too-long" in summary
    uploaded = pull_request / load("check.yml")["jobs"]["check"]["steps"][-1]["with"]["path"]
    assert (uploaded / "manifest.json").is_file() and (uploaded / "summary.md").read_text(encoding="utf-8") == summary
    assert (uploaded / "2026/second/preview.html").is_file()
    from publisher.browser import chromium_path

    if chromium_path():
        assert (uploaded / "screenshots/2026/second-light.png").is_file()
        assert (uploaded / "screenshots/2026/second-dark.png").is_file()
    else:
        assert "Screenshots skipped" in summary


def test_preview_send_runs_for_the_same_repository_only(tmp_path, pull_request):
    runner = Runner(tmp_path, pull_request)
    fork = runner.run("check.yml", "preview-send", event_name="pull_request",
                      event=_pull_request_event("stranger/articles"), secrets={"WECHAT_APP_ID": "x"})
    assert len(fork) == 1 and fork[0].skipped.startswith("job condition false")
    same = runner.run("check.yml", "preview-send", event_name="pull_request", event=_pull_request_event(REPOSITORY),
                      secrets={})
    send = step(same, "Send previews")
    assert send.returncode == 0 and "no previews sent" in send.output  # no secrets configured: a warning


def test_preview_send_sends_to_the_sandbox_and_records_in_the_ledger(tmp_path, pull_request, sandbox):
    origin = tmp_path / "origin.git"
    index = pull_request / "content/2026/second/index.md"  # the check job passes: the title is fixed
    index.write_text(re.sub(r"title: .*", "title: 第二篇", index.read_text(encoding="utf-8")), encoding="utf-8")
    _git(pull_request, "commit", "-q", "-am", "shorter title")
    runner = Runner(tmp_path, pull_request)
    runs = runner.run("check.yml", "preview-send", event_name="pull_request", event=_pull_request_event(REPOSITORY),
                      secrets=_publish_secrets(sandbox), variables={"WECHAT_PREVIEW_TO": "boss-wechat-id"})
    send = step(runs, "Send previews")
    assert send.returncode == 0, send.output
    assert "2026/second" in send.output and "boss-wechat-id" in send.output
    counts = sandbox.admin.calls()["counts"]
    assert counts.get("message/mass/preview", 0) == 1 and counts.get("freepublish/submit", 0) == 0
    assert "previews/" in _git(origin, "ls-tree", "-r", "--name-only", "publisher-ledger")


# ---- schedule.yml ---------------------------------------------------------------------------------


def test_schedule_dispatches_publish_and_keeps_itself_alive(tmp_path):
    workflow = load("schedule.yml")
    crons = [entry["cron"] for entry in triggers(workflow)["schedule"]]
    condition = workflow["jobs"]["dispatch"]["steps"][1]["if"]
    keep_alive = re.search(r"github\.event\.schedule == '([^']+)'", condition).group(1)
    assert keep_alive in crons and "7,37 * * * *" in crons
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    _git(workspace, "init", "-q", "-b", "main")
    _git(workspace, "commit", "-q", "--allow-empty", "-m", "empty")
    runner = Runner(tmp_path, workspace)
    event = {"schedule": "7,37 * * * *", "repository": {"full_name": REPOSITORY, "default_branch": "main"}}
    runs = runner.run("schedule.yml", "dispatch", event_name="schedule", event=event)
    assert step(runs, "Run the publish").returncode == 0 and step(runs, "Keep").skipped
    assert runner.stand_in_calls() == [f"gh workflow run publish.yml --ref main GH_REPO={REPOSITORY} GH_TOKEN=set"]
    runs = runner.run("schedule.yml", "dispatch", event_name="schedule", event={**event, "schedule": keep_alive})
    assert all(r.returncode == 0 for r in runs)
    assert runner.stand_in_calls()[1:] == [f"gh workflow run publish.yml --ref main GH_REPO={REPOSITORY} GH_TOKEN=set",
                                           f"gh workflow enable schedule.yml GH_REPO={REPOSITORY} GH_TOKEN=set"]


def test_lint_script_is_run_by_ci():
    lines = (REPO / ".ci/run").read_text(encoding="utf-8").splitlines()
    assert "bash scripts/lint-workflows.sh" in lines
    assert lines.index("bash scripts/lint-workflows.sh") > lines.index('eval "$TEST_COMMAND"')
    assert shutil.which("bash")
    text = (REPO / "scripts/lint-workflows.sh").read_text(encoding="utf-8")
    assert "zizmor --offline" in text and "--min-severity high" in text and "mkdocs build --strict" in text


def test_the_runner_evaluates_expressions_like_github():
    expressions = Expressions({"event": {"pull_request": {"head": {"repo": {"full_name": "a/b"}}}},
                               "repository": "a/b", "event_name": "push"}, {"S": "s"}, {}, {"now": ""})
    assert expressions.condition(SAME_REPO_ONLY)
    assert expressions.evaluate("vars.PUBLISH_RUNNER || 'ubuntu-latest'") == "ubuntu-latest"
    assert expressions.substitute("x-${{ secrets.S }}-${{ inputs.now }}-${{ secrets.MISSING }}") == "x-s--"
    assert expressions.condition("${{ !cancelled() }}")
    expressions.failed = True
    assert expressions.condition("${{ !cancelled() }}") and not expressions.condition("github.event_name == 'push'")
    with pytest.raises(AssertionError):
        expressions.evaluate("env.SOMETHING")
