"""The ledger: a git-backed record of everything published, written with compare-and-swap.

Records are JSON files on a dedicated branch (default `publisher-ledger`) of the content repository,
so a protected `main` is never written by the bot and `git log -p publisher-ledger` reads as a
journal. Commits are made with plumbing only (blobs, a temporary index in a temporary folder,
`write-tree`, `commit-tree`), so the user's working tree, index and current branch are never touched.

The branch moves by compare-and-swap: `git update-ref <branch> <new> <old>` locally, and when the
repository has the remote, `git push --force-with-lease=<branch>:<old>` to it first (the remote is
the source of truth; the local branch follows it). A writer that loses the race re-reads the ledger,
calls its change function again on the new state and retries, a bounded number of times. A process
killed at any point leaves the branch at the old commit or the new one: nothing else is shared.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import tempfile
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import git

from publisher.faults import checkpoint

RECORD_MODE = "100644"
SNAPSHOT_CACHE = 16  # snapshots kept per Ledger (one per commit sha)
# what a remote says when another push was updating the branch at the same moment: retry, not give up
REMOTE_RACES = ("failed to update ref", "failed to lock", "cannot lock", "incorrect old value", "stale info")
LOCK_ERRORS = ("cannot lock ref", "unable to update local ref", "Unable to create", "File exists")


class LedgerError(Exception):
    """The ledger cannot be used: not a repository, remote unreachable, corrupt record, diverged branches."""


class LedgerConflict(LedgerError):
    """Other writers kept moving the branch: the compare-and-swap retries were exhausted."""


Entry = tuple[str, str]  # (mode, object sha)


def check_path(path: str, *, folder: bool = False) -> str:
    """A record path (or with `folder`, a folder prefix) that stays inside the ledger tree."""
    if not isinstance(path, str):
        raise ValueError(f"ledger path must be a string, got {type(path).__name__}")
    inner = path.rstrip("/") if folder else path
    if folder and inner in ("", "."):
        return ""
    if not inner:
        raise ValueError("ledger path is empty")
    if inner.startswith("/") or "\\" in inner or any(ord(c) < 32 or c == "\x7f" for c in inner):
        raise ValueError(f"ledger path {path!r} must be relative, with '/' separators and no control characters")
    for part in inner.split("/"):
        if part in ("", ".", "..") or part.lower() == ".git":
            raise ValueError(f"ledger path {path!r} leaves the ledger tree or is not normalised")
    return inner


def dump_record(record: dict) -> bytes:
    """The file a record is stored as: indented, sorted, UTF-8, with a trailing newline."""
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _parse(data: bytes, path: str, commit: str, branch: str) -> dict:
    where = f"ledger record {path} (branch {branch}, commit {commit[:12]})"
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise LedgerError(f"corrupt {where}: {error}; fix or delete the file with a commit on the branch "
                          f"(`git log -p {branch} -- {path}` shows how it got there)") from None
    if not isinstance(record, dict):
        raise LedgerError(f"corrupt {where}: expected a JSON object, found {type(record).__name__}")
    return record


def is_record(path: str) -> bool:
    """Records (.json) are JSON objects loaded with every snapshot; other files are data, read on demand."""
    return path.endswith(".json")


def blob_sha(data: bytes) -> str:
    """The id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Snapshot:
    """All records of one ledger commit, loaded at once; cheap to query many times. Data files (any other
    name, e.g. the analytics export) are read only when asked for, so they never slow publishing down."""

    def __init__(self, commit: str | None, tree: str | None, entries: dict[str, Entry], blobs: dict[str, bytes],
                 branch: str = "", load: Callable[[list[str]], list[tuple[str, bytes] | None]] | None = None):
        self.commit = commit
        self.tree = tree
        self._entries = entries
        self._blobs = blobs
        self._paths = sorted(entries)
        self._branch = branch
        self._load = load

    def read_bytes(self, path: str) -> bytes | None:
        """The content of the file at `path`, a record or a data file; None when there is none."""
        path = check_path(path)
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry[1] not in self._blobs and self._load is not None:
            found = self._load([entry[1]])[0]
            if found is None:
                raise LedgerError(f"ledger commit {(self.commit or '')[:12]} refers to a missing object {entry[1]} "
                                  f"({path}): the repository is damaged (run `git fsck`)")
            self._blobs[entry[1]] = found[1]
        return self._blobs.get(entry[1])

    def read(self, path: str) -> dict | None:
        """The record at `path` (a fresh dict each time), or None when there is none."""
        path = check_path(path)
        if not is_record(path):
            raise ValueError(f"{path} is a data file, not a record: use read_bytes")
        entry = self._entries.get(path)
        if entry is None or entry[1] not in self._blobs:
            return None
        return _parse(self._blobs[entry[1]], path, self.commit or "", self._branch)

    def list(self, prefix: str = "") -> list[str]:
        """Record paths under the folder `prefix` (all of them for ""), at any depth, sorted."""
        folder = check_path(prefix, folder=True)
        if not folder:
            return list(self._paths)
        start = folder + "/"
        found = []
        for path in self._paths[bisect_left(self._paths, start):]:
            if not path.startswith(start):
                break
            found.append(path)
        return found

    def entries(self) -> dict[str, Entry]:
        return dict(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"Snapshot(commit={self.commit!r}, records={len(self._paths)})"


@dataclass
class Ledger:
    repo_path: Path
    branch: str = "publisher-ledger"
    remote: str | None = "origin"  # used only if the repository has that remote
    author: tuple[str, str] = ("publisher", "publisher@localhost")
    retries: int = 10  # compare-and-swap attempts before LedgerConflict
    timeout: float = 120.0  # seconds for one fetch or push

    _git_dir: str = field(init=False, repr=False, compare=False, default="")
    _common_dir: str = field(init=False, repr=False, compare=False, default="")
    _remote: str | None = field(init=False, repr=False, compare=False, default=None)
    _remote_url: str = field(init=False, repr=False, compare=False, default="")
    _cache: OrderedDict = field(init=False, repr=False, compare=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.repo_path = Path(self.repo_path)
        try:
            repo = git.Repo(self.repo_path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise LedgerError(f"{self.repo_path} is not a git repository: the ledger lives on a branch of the content "
                              f"repository, so pass its root folder (or run `git init` there)") from None
        try:
            self._git_dir = str(Path(repo.git_dir).resolve())
            self._common_dir = str(Path(repo.common_dir).resolve())
            if self.remote and self.remote in {remote.name for remote in repo.remotes}:
                self._remote = self.remote
                self._remote_url = ", ".join(repo.remote(self.remote).urls)
        finally:
            repo.close()
        if self._run(["check-ref-format", f"refs/heads/{self.branch}"], check=False).returncode != 0:
            raise LedgerError(f"'{self.branch}' is not a valid branch name for the ledger")

    # ---- public API ----

    def read(self, path: str) -> dict | None:
        """The record at `path`, after syncing with the remote; None when there is none."""
        check_path(path)
        return self.snapshot().read(path)

    def list(self, prefix: str = "") -> list[str]:
        """Record paths under the folder `prefix`, after syncing with the remote."""
        check_path(prefix, folder=True)
        return self.snapshot().list(prefix)

    def snapshot(self) -> Snapshot:
        """All records at the current tip of the ledger, after syncing with the remote."""
        return self._snapshot_at(self._sync())

    def sync(self) -> None:
        """Bring the local branch and the remote's into agreement.

        The remote's commits are fetched and the local branch fast-forwarded to them; local commits the
        remote lacks (made offline or with remote=None) are pushed; if both sides have commits the other
        lacks, they are merged when no record was changed differently on both sides.
        """
        self._sync()

    def update(self, message: str, change: Callable[[Snapshot], dict[str, dict | bytes | None]]) -> str:
        """Apply `change(snapshot)` -> {path: record (bytes for a data file) or None to delete} as one commit,
        with compare-and-swap.

        On conflict the ledger is re-read and `change` called again on the new snapshot, so it must
        compute its result from the snapshot alone. Returns the new commit sha; when nothing changes,
        no commit is made and the current tip is returned ("" for a ledger that does not exist yet).
        """
        message = _check_message(message)
        pending: str | None = None  # a commit whose push failed ambiguously: it may have landed
        last = ""
        for attempt in range(self.retries):
            if attempt:
                _backoff(attempt)
            tip = self._sync()
            if pending and tip and (tip == pending or self._is_ancestor(pending, tip)):
                return pending
            snapshot = self._snapshot_at(tip)
            changes = change(snapshot)
            entries = self._apply(snapshot, changes)
            if entries is None:
                return tip or ""
            new = self._commit(entries, snapshot, [tip] if tip else [], message)
            if new is None:
                return tip or ""
            checkpoint("ledger-write")
            if self._remote:
                accepted, last = self._push(new, tip)
                if accepted:
                    self._advance_local(new)
                    return new
                pending = new
            else:
                moved, last = self._move_local(new, tip, message)
                if moved:
                    return new
        raise LedgerConflict(self._conflict_message(last))

    def history(self, path: str) -> list[tuple[str, str, dict | None]]:
        """(commit sha, commit message, record or None when deleted) for each commit that changed `path`, newest first."""
        path = check_path(path)
        tip = self._sync()
        if tip is None:
            return []
        log = self._run(["log", "-z", "--no-renames", "--format=%H%n%B", tip, "--", path],
                        env={"GIT_LITERAL_PATHSPECS": "1"}).stdout
        commits = []
        for item in log.split(b"\0"):
            if item.strip():
                sha, _, body = item.decode("utf-8", "replace").lstrip("\n").partition("\n")
                commits.append((sha, body.strip()))
        if not commits:
            return []
        blobs = self._cat_file([f"{sha}:{path}" for sha, _ in commits])
        result = []
        for (sha, message), blob in zip(commits, blobs, strict=True):
            result.append((sha, message, None if blob is None else _parse(blob[1], path, sha, self.branch)))
        return result

    # ---- syncing ----

    def _sync(self) -> str | None:
        """The commit the ledger is at once local and remote branches agree (None: no ledger yet)."""
        if not self._remote:
            return self._local_tip()
        last = ""
        for attempt in range(self.retries):
            if attempt:
                _backoff(attempt)
            remote = self._fetch()
            local = self._local_tip()
            if local == remote:
                return local
            if local and (remote is None or self._is_ancestor(remote, local)):
                accepted, last = self._push(local, remote)  # commits made offline: publish them
                if accepted:
                    return local
            elif local is None or self._is_ancestor(local, remote):
                moved, last = self._move_local(remote, local, "sync with remote")
                if moved:
                    return remote
            else:
                merged = self._merge(local, remote)
                self._move_local(merged, local, "merge remote ledger")  # the next round pushes it
        raise LedgerConflict(self._conflict_message(last))

    def _fetch(self) -> str | None:
        """Fetch the remote's ledger branch into refs/remotes/<remote>/<branch>; its sha, or None if absent."""
        tracking = f"refs/remotes/{self._remote}/{self.branch}"
        for attempt in range(5):
            result = self._run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self._remote,
                                f"+refs/heads/{self.branch}:{tracking}"], check=False, network=True)
            if result.returncode == 0:
                return self._rev_parse(tracking)
            error = result.stderr.decode("utf-8", "replace")
            if "couldn't find remote ref" in error:
                return None
            if not any(text in error for text in LOCK_ERRORS):  # another process updating the same tracking ref
                raise self._unreachable("fetch the ledger from", error)
            time.sleep(0.02 * (attempt + 1))
        raise self._unreachable("fetch the ledger from", error)

    def _push(self, commit: str, expected: str | None) -> tuple[bool, str]:
        """Push `commit` to the remote branch if the remote is still at `expected`: (accepted, why not)."""
        ref = f"refs/heads/{self.branch}"
        result = self._run(["push", "--porcelain", "--no-verify", f"--force-with-lease={ref}:{expected or ''}",
                            self._remote, f"{commit}:{ref}"], check=False, network=True)
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[1].endswith(f":{ref}"):
                summary = parts[2] if len(parts) > 2 else ""
                if line[0] in " +-*=":
                    return True, ""
                if "remote rejected" in summary and not any(text in summary for text in REMOTE_RACES):
                    raise LedgerError(f"remote '{self._remote}' ({self._remote_url}) refused the ledger branch "
                                      f"{self.branch}: {summary}. Allow the publisher to push to this branch "
                                      f"(it must not be protected), or use another branch for the ledger")
                return False, f"push {summary}"
        raise self._unreachable("push the ledger to", result.stderr.decode("utf-8", "replace"))

    def _unreachable(self, what: str, stderr: str) -> LedgerError:
        detail = "; ".join(line.strip() for line in stderr.splitlines() if line.strip()) or "no output"
        return LedgerError(f"could not {what} remote '{self._remote}' ({self._remote_url}): {detail}. Check the "
                           f"network, the remote's address and your credentials, then run again; to work offline, "
                           f"use the ledger with remote=None (the next run with the remote pushes those records)")

    def _advance_local(self, commit: str) -> None:
        """Fast-forward the local branch to `commit` unless it already contains it."""
        for _ in range(self.retries):
            local = self._local_tip()
            if local == commit or (local and self._is_ancestor(commit, local)):
                return
            if local and not self._is_ancestor(local, commit):
                return  # diverged meanwhile: the next sync merges
            if self._move_local(commit, local, "sync with remote")[0]:
                return

    def _merge(self, local: str, remote: str) -> str:
        """A merge commit of two diverged ledger tips; records changed differently on both sides are an error."""
        result = self._run(["merge-base", local, remote], check=False)
        base = result.stdout.decode().strip() if result.returncode == 0 else None
        ours, theirs = self._snapshot_at(local), self._snapshot_at(remote)
        before = self._snapshot_at(base).entries() if base else {}
        mine, other = ours.entries(), theirs.entries()
        merged: dict[str, Entry] = {}
        conflicts = []
        for path in sorted(set(before) | set(mine) | set(other)):
            was, a, b = before.get(path), mine.get(path), other.get(path)
            if a == b or b == was:
                chosen = a
            elif a == was:
                chosen = b
            else:
                conflicts.append(path)
                continue
            if chosen is not None:
                merged[path] = chosen
        if conflicts:
            shown = ", ".join(conflicts[:10]) + (" …" if len(conflicts) > 10 else "")
            raise LedgerError(f"the local ledger branch {self.branch} ({local[:12]}) and {self._remote}/{self.branch} "
                              f"({remote[:12]}) have diverged and both changed {shown}. Compare them with "
                              f"`git log -p {self.branch} {self._remote}/{self.branch} -- <path>`, merge "
                              f"{self._remote}/{self.branch} into {self.branch} by hand (in a separate worktree), "
                              f"then run again")
        _check_tree_paths(merged, merged)
        message = f"Merge {self._remote}/{self.branch} into {self.branch}"
        commit = self._commit(merged, None, [local, remote], message, always=True)
        assert commit is not None
        return commit

    # ---- reading ----

    def _snapshot_at(self, commit: str | None) -> Snapshot:
        if commit is None:
            return Snapshot(None, None, {}, {}, self.branch)
        cached = self._cache.get(commit)
        if cached is not None:
            self._cache.move_to_end(commit)
            return cached
        listing = self._run(["ls-tree", "-r", "-z", "--full-tree", commit]).stdout
        entries: dict[str, Entry] = {}
        wanted: list[str] = []
        for item in listing.split(b"\0"):
            if not item:
                continue
            meta, _, raw_path = item.partition(b"\t")
            mode, kind, sha = meta.decode().split(" ")
            path = raw_path.decode("utf-8", "surrogateescape")
            entries[path] = (mode, sha)
            if kind == "blob" and is_record(path):
                wanted.append(sha)
        wanted = list(dict.fromkeys(wanted))
        objects = self._cat_file([f"{commit}^{{tree}}", *wanted])
        tree = objects[0][0] if objects[0] else None
        blobs = {}
        for sha, found in zip(wanted, objects[1:], strict=True):
            if found is None:
                raise LedgerError(f"ledger commit {commit[:12]} refers to a missing object {sha}: "
                                  f"the repository is damaged (run `git fsck`)")
            blobs[sha] = found[1]
        return self._remember(Snapshot(commit, tree, entries, blobs, self.branch, self._cat_file))

    def _remember(self, snapshot: Snapshot) -> Snapshot:
        self._cache[snapshot.commit] = snapshot
        while len(self._cache) > SNAPSHOT_CACHE:
            self._cache.popitem(last=False)
        return snapshot

    def _cat_file(self, names: list[str]) -> list[tuple[str, bytes] | None]:
        """(sha, content) for each object name, None for a missing one, in one `git cat-file --batch`."""
        out = self._run(["cat-file", "--batch"], input="".join(name + "\n" for name in names).encode()).stdout
        found: list[tuple[str, bytes] | None] = []
        pos = 0
        for _ in names:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode("utf-8", "surrogateescape")
            if header.endswith(" missing") or header.endswith(" ambiguous"):
                found.append(None)
                pos = end + 1
                continue
            sha, _kind, size = header.split(" ")
            start = end + 1
            found.append((sha, out[start:start + int(size)]))
            pos = start + int(size) + 1
        return found

    def _local_tip(self) -> str | None:
        return self._rev_parse(f"refs/heads/{self.branch}")

    def _rev_parse(self, ref: str) -> str | None:
        result = self._run(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=False)
        if result.returncode != 0:
            return None
        return result.stdout.decode().strip() or None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        result = self._run(["merge-base", "--is-ancestor", older, newer], check=False)
        if result.returncode not in (0, 1):
            raise LedgerError(f"git merge-base failed: {result.stderr.decode('utf-8', 'replace').strip()}")
        return result.returncode == 0

    # ---- writing ----

    def _apply(self, snapshot: Snapshot, changes: dict[str, dict | bytes | None]) -> dict[str, Entry | bytes] | None:
        """The new tree's entries (bytes for records to write), or None when `changes` change nothing."""
        if not isinstance(changes, dict):
            raise TypeError(f"the change function must return a dict of path -> record or None, "
                            f"got {type(changes).__name__}")
        entries: dict[str, Entry | bytes] = dict(snapshot.entries())
        changed = False
        for raw_path, record in changes.items():
            path = check_path(raw_path)
            if record is None:
                changed |= entries.pop(path, None) is not None
                continue
            data = _encode(path, record)
            old = entries.get(path)
            if isinstance(old, tuple) and old[1] == blob_sha(data):
                continue
            entries[path] = data
            changed = True
        if not changed:
            return None
        _check_tree_paths(entries, {path: entries[path] for path in changes if path in entries})
        return entries

    def _commit(self, entries: dict[str, Entry | bytes], parent: Snapshot | None, parents: list[str], message: str,
                *, always: bool = False) -> str | None:
        """Write blobs, a tree (through a temporary index outside .git) and a commit; None if the tree is unchanged."""
        with tempfile.TemporaryDirectory(prefix="publisher-ledger-") as temp:
            new = [(path, data) for path, data in entries.items() if isinstance(data, bytes)]
            shas: list[str] = []
            if new:
                names = []
                for number, (_, data) in enumerate(new):
                    name = os.path.join(temp, f"record-{number}")
                    with open(name, "wb") as file:
                        file.write(data)
                    names.append(name)
                out = self._run(["hash-object", "-w", "--no-filters", "--stdin-paths"],
                                input="".join(name + "\n" for name in names).encode()).stdout
                shas = out.decode().split()
            blob_of = dict(zip([path for path, _ in new], shas, strict=True))
            lines = []
            for path, value in sorted(entries.items()):
                mode, sha = (RECORD_MODE, blob_of[path]) if isinstance(value, bytes) else value
                lines.append(f"{mode} {sha}\t{path}\0")
            index_env = {"GIT_INDEX_FILE": os.path.join(temp, "index")}
            self._run(["update-index", "--add", "-z", "--index-info"],
                      input="".join(lines).encode("utf-8", "surrogateescape"), env=index_env)
            tree = self._run(["write-tree"], env=index_env).stdout.decode().strip()
        if not always and parent is not None and parent.tree == tree:
            return None
        name, email = self.author
        identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                    "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        args = ["commit-tree", "--no-gpg-sign", tree]
        for sha in parents:
            args += ["-p", sha]
        out = self._run([*args, "-F", "-"], input=(message + "\n").encode("utf-8"), env=identity).stdout
        commit = out.decode().strip()
        if parent is not None:  # we know this commit's records already: the next update need not read them back
            final = {path: (RECORD_MODE, blob_of[path]) if isinstance(value, bytes) else value
                     for path, value in entries.items()}
            blobs = {sha: parent._blobs[sha] for _, sha in final.values() if sha in parent._blobs}
            blobs.update((blob_of[path], data) for path, data in new)
            self._remember(Snapshot(commit, tree, final, blobs, self.branch, self._cat_file))
        return commit

    def _move_local(self, new: str, old: str | None, message: str) -> tuple[bool, str]:
        """Compare-and-swap the local branch from `old` (None: must not exist) to `new`: (moved, why not)."""
        worktrees = self._run(["worktree", "list", "--porcelain"]).stdout.decode("utf-8", "replace")
        for block in worktrees.split("\n\n"):
            if f"\nbranch refs/heads/{self.branch}\n" in f"\n{block}\n":
                folder = block.splitlines()[0].removeprefix("worktree ")
                raise LedgerError(f"the ledger branch {self.branch} is checked out in {folder}: switch that "
                                  f"checkout to another branch (`git switch main`), since the publisher moves "
                                  f"{self.branch} itself and would leave that working tree out of date")
        result = self._run(["update-ref", "-m", f"publisher ledger: {message.splitlines()[0]}",
                            f"refs/heads/{self.branch}", new, old or "0" * len(new)], check=False)
        return result.returncode == 0, result.stderr.decode("utf-8", "replace").strip()

    def _conflict_message(self, last: str) -> str:
        text = (f"gave up after {self.retries} attempts to move the ledger branch {self.branch}: other writers "
                f"kept moving it")
        if last:
            text += f" (last refusal: {last})"
        lock = Path(self._common_dir, "refs", "heads", *self.branch.split("/")).with_name(
            self.branch.split("/")[-1] + ".lock")
        if lock.exists() and time.time() - lock.stat().st_mtime > 30:
            text += f". {lock} is more than 30 s old: if no git process is running, delete it"
        return text + ". Run again."

    # ---- running git ----

    def _run(self, args: list[str], *, input: bytes | None = None, env: dict[str, str] | None = None,
             check: bool = True, network: bool = False) -> subprocess.CompletedProcess:
        full_env = {key: value for key, value in os.environ.items()
                    if key not in ("GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_NAMESPACE")}
        full_env.update({"GIT_DIR": self._git_dir, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": ""})
        full_env.update(env or {})
        executable = git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git"
        try:
            result = subprocess.run([executable, *args], input=input, capture_output=True, env=full_env,
                                    cwd=self._git_dir, timeout=self.timeout if network else None)
        except subprocess.TimeoutExpired:
            raise LedgerError(f"`git {args[0]}` with remote '{self._remote}' ({self._remote_url}) took more than "
                              f"{self.timeout:.0f} s: check the network, then run again") from None
        if check and result.returncode != 0:
            raise LedgerError(f"`git {' '.join(args[:3])}` failed in {self.repo_path}: "
                              f"{result.stderr.decode('utf-8', 'replace').strip()}")
        return result


def _encode(path: str, value: dict | bytes) -> bytes:
    if not is_record(path):
        if not isinstance(value, bytes):
            raise TypeError(f"ledger data file {path} takes bytes, got {type(value).__name__}")
        return value
    if not isinstance(value, dict):
        raise TypeError(f"ledger record {path} must be a dict (or None to delete), got {type(value).__name__}")
    try:
        return dump_record(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"ledger record {path} cannot be stored as JSON: {error}") from None


def _check_message(message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        raise ValueError("a ledger commit needs a message saying what happened")
    return message.strip()


def _check_tree_paths(entries: dict, added: dict) -> None:
    """A record cannot also be a folder: 'a' and 'a/b' cannot both exist."""
    paths = sorted(entries)
    for path in added:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in entries:
                raise LedgerError(f"ledger record {path} would be inside the record {'/'.join(parts[:depth])}")
        at = bisect_left(paths, path + "/")
        if at < len(paths) and paths[at].startswith(path + "/"):
            raise LedgerError(f"ledger record {path} would replace the folder holding {paths[at]}")


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.005, min(1.0, 0.02 * 2 ** attempt)))
