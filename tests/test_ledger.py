"""The ledger on real git repositories: records, CAS between processes, remotes, crashes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import git
import pytest

from publisher.ledger import Ledger, LedgerConflict, LedgerError, Snapshot

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "publisher-ledger"


def make_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Editor")
        config.set_value("user", "email", "editor@example.com")
    (path / "README.md").write_text("content\n", encoding="utf-8")
    repo.index.add(["README.md"])
    repo.index.commit("first article")
    return repo


def make_origin(tmp_path: Path) -> Path:
    """A bare `origin` that already has a main branch, as a hosted repository would."""
    origin = tmp_path / "origin.git"
    git.Repo.init(origin, bare=True, initial_branch="main")
    seed = make_repo(tmp_path / "seed")
    seed.create_remote("origin", str(origin)).push("main:main")
    return origin


def clone(origin: Path, path: Path) -> Path:
    git.Repo.clone_from(str(origin), str(path)).close()
    return path


def increment(snapshot: Snapshot) -> dict:
    record = snapshot.read("counter.json") or {"n": 0}
    return {"counter.json": {"n": record["n"] + 1}}


def branch_file(repo: Path, path: str) -> str:
    return git.Repo(repo).git.show(f"{BRANCH}:{path}", strip_newline_in_stdout=False)


# ---- records ----

def test_create_read_update_delete_and_the_journal(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    assert ledger.read("articles/hello.json") is None and ledger.list("") == [] and ledger.history("x.json") == []
    assert ledger.snapshot().commit is None

    first = ledger.update("upload hello", lambda s: {"articles/hello.json": {"status": "uploaded", "标题": "你好"},
                                                     "media/abc.json": {"media_id": "m1"}})
    assert ledger.read("articles/hello.json") == {"status": "uploaded", "标题": "你好"}
    assert branch_file(tmp_path, "articles/hello.json") == '{\n  "status": "uploaded",\n  "标题": "你好"\n}\n'

    second = ledger.update("publish hello", lambda s: {"articles/hello.json": {**s.read("articles/hello.json"),
                                                                                "status": "published"}})
    assert ledger.read("articles/hello.json")["status"] == "published"
    assert ledger.list("articles") == ["articles/hello.json"] == ledger.list("articles/")
    assert ledger.list("") == ["articles/hello.json", "media/abc.json"]

    third = ledger.update("withdraw hello", lambda s: {"articles/hello.json": None})
    assert ledger.read("articles/hello.json") is None and ledger.list("articles") == []
    assert ledger.read("media/abc.json") == {"media_id": "m1"}

    history = ledger.history("articles/hello.json")
    assert [(sha, message) for sha, message, _ in history] == [
        (third, "withdraw hello"), (second, "publish hello"), (first, "upload hello")]
    assert [record and record["status"] for _, _, record in history] == [None, "published", "uploaded"]
    commit = git.Repo(tmp_path).commit(third)
    assert commit.author.name == "publisher" and commit.parents[0].hexsha == second


def test_nothing_to_change_writes_nothing_and_a_failing_change_aborts(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    assert ledger.update("nothing", lambda s: {}) == ""
    assert git.Repo(tmp_path).git.branch("--list", BRANCH) == ""
    tip = ledger.update("draft", lambda s: {"a.json": {"status": "drafted"}})
    assert ledger.update("same again", lambda s: {"a.json": {"status": "drafted"}}) == tip
    assert ledger.update("delete a missing record", lambda s: {"missing.json": None}) == tip

    def refuse(snapshot):
        raise RuntimeError("the article changed after approval")

    with pytest.raises(RuntimeError):
        ledger.update("never", refuse)
    assert ledger.snapshot().commit == tip
    with pytest.raises(TypeError):
        ledger.update("bad", lambda s: {"a.json": ["not", "a", "dict"]})
    with pytest.raises(LedgerError, match="inside the record a.json"):
        ledger.update("file as folder", lambda s: {"a.json/b.json": {}})
    assert ledger.snapshot().commit == tip


def test_snapshots_are_cached_per_commit_and_hand_out_fresh_dicts(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    ledger.update("one", lambda s: {"a.json": {"tags": ["x"]}})
    snapshot = ledger.snapshot()
    assert ledger.snapshot() is snapshot and "a.json" in snapshot and len(snapshot) == 1
    snapshot.read("a.json")["tags"].append("mutated")
    assert snapshot.read("a.json") == {"tags": ["x"]}
    ledger.update("two", lambda s: {"b.json": {}, "a.json": {"tags": ["y"]}})
    ours, fresh = ledger.snapshot(), Ledger(tmp_path).snapshot()  # ours was cached when it was written
    assert ours is not snapshot and ours.list() == ["a.json", "b.json"]
    assert (ours.commit, ours.tree, ours.entries()) == (fresh.commit, fresh.tree, fresh.entries())
    assert [ours.read(p) for p in ours] == [fresh.read(p) for p in fresh] == [{"tags": ["y"]}, {}]


def test_a_checked_out_ledger_branch_is_not_moved(tmp_path):
    repo = make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    ledger.update("one", lambda s: {"a.json": {}})
    repo.git.switch(BRANCH)
    with pytest.raises(LedgerError, match=r"checked out in .*git switch main"):
        ledger.update("two", lambda s: {"b.json": {}})
    assert repo.head.commit.hexsha == repo.commit(BRANCH).hexsha and repo.git.status("--porcelain") == ""


def test_user_working_tree_index_and_branch_are_untouched(tmp_path):
    repo = make_repo(tmp_path)
    (tmp_path / "README.md").write_text("edited but not committed\n", encoding="utf-8")
    (tmp_path / "staged.md").write_text("staged\n", encoding="utf-8")
    repo.index.add(["staged.md"])
    (tmp_path / "untracked.md").write_text("untracked\n", encoding="utf-8")

    def state():
        return (repo.head.commit.hexsha, repo.active_branch.name, repo.git.status("--porcelain"),
                repo.git.diff(), repo.git.diff("--cached"), sorted(os.listdir(tmp_path / ".git")))

    before = state()
    ledger = Ledger(tmp_path)
    for number in range(3):
        ledger.update(f"record {number}", lambda s, n=number: {f"r/{n}.json": {"n": n}})
    ledger.update("delete one", lambda s: {"r/0.json": None})
    assert state() == before
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "edited but not committed\n"
    assert not (tmp_path / "r").exists()
    leftovers = [p for p in (tmp_path / ".git").rglob("*") if "index" in p.name and p.name != "index"
                 or p.name.endswith(".lock")]
    assert leftovers == []


def test_paths_must_stay_inside_the_ledger(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    for bad in ["../escape.json", "/etc/passwd", "a/../../b.json", "a//b.json", "./a.json", ".git/config",
                "a\\b.json", "", "a\nb.json", "a/"]:
        with pytest.raises(ValueError):
            ledger.update("escape", lambda s, bad=bad: {bad: {"x": 1}})
        with pytest.raises(ValueError):
            ledger.read(bad)
    with pytest.raises(ValueError):
        ledger.list("../outside")
    with pytest.raises(ValueError):
        ledger.history("../x.json")
    assert ledger.snapshot().commit is None and not (tmp_path.parent / "escape.json").exists()


def test_corrupt_record_names_the_file(tmp_path):
    repo = make_repo(tmp_path)
    repo.git.switch("--orphan", BRANCH)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "bad.json").write_text('{"status": "publ', encoding="utf-8")
    (tmp_path / "articles" / "good.json").write_text('{"status": "published"}\n', encoding="utf-8")
    repo.git.add("articles")
    repo.git.commit("-m", "hand-edited")
    repo.git.switch("main")

    ledger = Ledger(tmp_path)
    assert ledger.read("articles/good.json") == {"status": "published"}
    with pytest.raises(LedgerError, match=r"corrupt ledger record articles/bad\.json"):
        ledger.read("articles/bad.json")
    with pytest.raises(LedgerError, match=r"articles/bad\.json"):
        ledger.history("articles/bad.json")
    ledger.update("repair", lambda s: {"articles/bad.json": {"status": "published"}})
    assert ledger.read("articles/bad.json") == {"status": "published"}


def test_not_a_repository_and_an_unreachable_remote_say_what_to_do(tmp_path):
    with pytest.raises(LedgerError, match="not a git repository"):
        Ledger(tmp_path / "nowhere")
    repo = make_repo(tmp_path / "repo")
    repo.create_remote("origin", str(tmp_path / "gone.git"))
    with pytest.raises(LedgerError, match=r"remote 'origin'.*remote=None"):
        Ledger(tmp_path / "repo").read("a.json")
    offline = Ledger(tmp_path / "repo", remote=None)
    offline.update("offline", lambda s: {"a.json": {"n": 1}})
    assert offline.read("a.json") == {"n": 1}


def test_snapshot_of_a_thousand_records_is_fast(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path)
    ledger.update("many", lambda s: {f"articles/{n:04}.json": {"n": n, "status": "published", "media_id": f"m{n}"}
                                     for n in range(1000)})
    timings = []
    for _ in range(3):
        fresh = Ledger(tmp_path)
        start = time.perf_counter()
        snapshot = fresh.snapshot()
        records = [snapshot.read(path) for path in snapshot.list("articles")]
        timings.append(time.perf_counter() - start)
    assert len(records) == 1000 and records[999]["media_id"] == "m999"
    assert min(timings) < 0.3, timings


# ---- processes ----

WORKER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from publisher.ledger import Ledger

    repo, count, go = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    ledger = Ledger(repo)

    def increment(snapshot):
        n = (snapshot.read("counter.json") or {"n": 0})["n"] + 1
        return {"counter.json": {"n": n}, f"items/{n:05}.json": {"by": os.getpid()}}

    (go.parent / f"ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.002)
    for _ in range(count):
        ledger.update(f"increment by {os.getpid()}", increment)
""")


def start_workers(repos: list[Path], count: int, tmp_path: Path) -> list[subprocess.Popen]:
    go = tmp_path / "go"
    temp = tmp_path / "temp"  # where a killed worker's temporary index is left behind
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TMPDIR": str(temp)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(repo), str(count), str(go)], env=env,
                                stderr=subprocess.PIPE) for repo in repos]
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("ready-*"))) < len(repos):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.01)
    go.touch()
    return workers


def finish(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()


def test_two_processes_incrementing_at_once_lose_nothing(tmp_path):
    make_repo(tmp_path / "repo")
    finish(start_workers([tmp_path / "repo"] * 2, 20, tmp_path))
    ledger = Ledger(tmp_path / "repo")
    assert ledger.read("counter.json") == {"n": 40}
    assert len(ledger.list("items")) == 40
    assert [record["n"] for _, _, record in ledger.history("counter.json")] == list(range(40, 0, -1))
    authors = {record["by"] for record in map(ledger.read, ledger.list("items"))}
    assert len(authors) == 2


def test_a_process_killed_mid_update_leaves_a_readable_ledger(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo)
    ledger = Ledger(repo)
    for round_ in range(3):
        for ready in tmp_path.glob("ready-*"):
            ready.unlink()
        (tmp_path / "go").unlink(missing_ok=True)
        before = (ledger.read("counter.json") or {"n": 0})["n"]
        [worker] = start_workers([repo], 10_000, tmp_path)
        while (ledger.read("counter.json") or {"n": 0})["n"] < before + 3 + round_:
            assert worker.poll() is None
            time.sleep(0.005)
        time.sleep(0.0037 * round_)
        worker.kill()  # SIGKILL
        worker.wait()
        time.sleep(0.05)  # a git child that outlived its parent finishes
        n = ledger.read("counter.json")["n"]
        assert n > before
        assert ledger.list("items") == [f"items/{i:05}.json" for i in range(1, n + 1)]
        assert len(ledger.history("counter.json")) == n
    ledger.update("after the crash", increment)
    assert ledger.read("counter.json") == {"n": n + 1}
    assert git.Repo(repo).git.status("--porcelain") == ""
    assert not [p for p in (repo / ".git").rglob("*") if p.name.endswith(".lock") or p.name.startswith("record-")]
    subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, check=True, capture_output=True)


# ---- remotes ----

def test_two_clones_share_the_ledger_through_origin_and_a_lost_clone_loses_nothing(tmp_path):
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    ledger_a, ledger_b = Ledger(a), Ledger(b)
    ledger_a.update("upload from a", lambda s: {"articles/a.json": {"status": "uploaded"}})
    ledger_b.update("upload from b", lambda s: {"articles/b.json": {"status": "uploaded"}})
    ledger_a.sync()
    assert git.Repo(a).commit(BRANCH).hexsha == git.Repo(origin).commit(BRANCH).hexsha
    assert ledger_a.list("articles") == ["articles/a.json", "articles/b.json"] == ledger_b.list("articles")
    assert git.Repo(a).active_branch.name == "main"

    shutil.rmtree(a)
    fresh = Ledger(clone(origin, tmp_path / "fresh"))
    fresh.sync()
    assert git.Repo(tmp_path / "fresh").git.rev_parse(BRANCH) == git.Repo(origin).git.rev_parse(BRANCH)
    assert fresh.read("articles/a.json") == {"status": "uploaded"} and fresh.list("articles") == [
        "articles/a.json", "articles/b.json"]
    assert [message for _, message, _ in fresh.history("articles/a.json")] == ["upload from a"]


def test_clones_writing_at_once_through_origin_lose_nothing(tmp_path):
    origin = make_origin(tmp_path)
    clones = [clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")]
    finish(start_workers(clones, 8, tmp_path))
    assert Ledger(clones[0]).read("counter.json") == {"n": 16}
    assert len(Ledger(clone(origin, tmp_path / "c")).list("items")) == 16


def test_offline_records_are_pushed_and_diverged_ledgers_merged(tmp_path):
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    Ledger(a).update("shared start", lambda s: {"shared.json": {"v": 0}})
    offline = Ledger(a, remote=None)
    offline.update("offline upload", lambda s: {"offline.json": {"status": "uploaded"}})
    assert offline.read("offline.json") and git.Repo(origin).commit(BRANCH).hexsha != git.Repo(a).commit(BRANCH).hexsha
    Ledger(b).update("online upload", lambda s: {"online.json": {"status": "uploaded"}})

    online = Ledger(a)
    online.sync()
    assert online.list("") == ["offline.json", "online.json", "shared.json"]
    assert Ledger(b).list("") == ["offline.json", "online.json", "shared.json"]
    assert len(git.Repo(origin).commit(BRANCH).parents) == 2

    Ledger(a, remote=None).update("offline edit", lambda s: {"shared.json": {"v": 1}})
    Ledger(b).update("online edit", lambda s: {"shared.json": {"v": 2}})
    with pytest.raises(LedgerError, match=r"diverged and both changed shared\.json"):
        Ledger(a).read("shared.json")


def test_a_repository_with_a_remote_can_be_used_without_it(tmp_path):
    origin = make_origin(tmp_path)
    a = clone(origin, tmp_path / "a")
    Ledger(a, remote=None).update("local only", lambda s: {"x.json": {}})
    assert "publisher-ledger" not in [ref.name for ref in git.Repo(origin).heads]
    Ledger(a).sync()
    assert "publisher-ledger" in [ref.name for ref in git.Repo(origin).heads]


def test_conflict_is_raised_when_retries_run_out(tmp_path):
    make_repo(tmp_path)
    ledger = Ledger(tmp_path, retries=2)
    rival = Ledger(tmp_path)

    def always_beaten(snapshot):
        rival.update("rival moves first", increment)
        return increment(snapshot)

    with pytest.raises(LedgerConflict, match="gave up after 2 attempts"):
        ledger.update("loses every race", always_beaten)
    assert ledger.read("counter.json") == {"n": 2}


def test_data_files_are_stored_as_bytes_and_read_only_on_demand(tmp_path):
    make_repo(tmp_path / "repo")
    ledger = Ledger(tmp_path / "repo", remote=None)
    lines = b'{"table": "account_daily", "ref_date": "2026-12-01"}\n'
    first = ledger.update("stats", lambda s: {"stats/main/2026-12.jsonl": lines, "stats/main/meta.json": {"v": 1}})
    assert ledger.update("again", lambda s: {"stats/main/2026-12.jsonl": lines}) == first  # unchanged: no commit
    fresh = Ledger(tmp_path / "repo", remote=None).snapshot()
    data_sha = fresh.entries()["stats/main/2026-12.jsonl"][1]
    assert data_sha not in fresh._blobs  # a snapshot loads records only
    assert fresh.read_bytes("stats/main/2026-12.jsonl") == lines
    assert fresh.read("stats/main/meta.json") == {"v": 1}
    with pytest.raises(ValueError, match="read_bytes"):
        fresh.read("stats/main/2026-12.jsonl")
    with pytest.raises(TypeError, match="takes bytes"):
        ledger.update("bad", lambda s: {"stats/main/2026-11.jsonl": {"not": "bytes"}})
    show = subprocess.run(["git", "show", f"{BRANCH}:stats/main/2026-12.jsonl"], cwd=tmp_path / "repo",
                          capture_output=True, check=True)
    assert show.stdout == lines
