"""Which WeChat a run talks to: the account's credentials from the environment, or the embedded sandbox.

No credentials configured → a sandbox account is started on 127.0.0.1 for this run (its state kept in
.publisher-cache/sandbox/<account>), and the output says so. Secrets are read here and handed to the
client; they are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from publisher.project import CONFIG_FILE, Account, ConfigError, Project

DEFAULT_API_BASE = "https://api.weixin.qq.com"


@dataclass
class Connection:
    client: object
    description: str  # for people: where this run publishes
    sandbox: object = None  # the RunningSandbox, when embedded

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


def credentials_configured(account: Account) -> bool:
    return bool(os.environ.get(account.app_id_env, "").strip() and os.environ.get(account.app_secret_env, "").strip())


def connect(project: Project, account: Account, now=None) -> Connection:
    from publisher.wechat.client import WeChatClient

    app_id = os.environ.get(account.app_id_env, "").strip()
    secret = os.environ.get(account.app_secret_env, "").strip()
    if bool(app_id) != bool(secret):
        present, missing = (account.app_id_env, account.app_secret_env) if app_id else (
            account.app_secret_env, account.app_id_env)
        raise ConfigError(CONFIG_FILE, None, missing, f"{present} is set but {missing} is not: set both, or "
                          "neither to publish to the embedded sandbox")
    common = {"account_type": account.type, "verified": account.verified}
    if app_id:
        base = os.environ.get(account.api_base_env, "").strip() or DEFAULT_API_BASE
        where = "WeChat" if base == DEFAULT_API_BASE else f"WeChat through {base}"
        return Connection(WeChatClient(app_id, secret, api_base=base, **common), f"{where} as {account.label}")
    return _embedded_sandbox(project, account, common, now)


def _embedded_sandbox(project: Project, account: Account, common: dict, now=None) -> Connection:
    from publisher.wechat.client import WeChatClient
    from publisher.wechat.sandbox import SandboxAccount, start_sandbox

    sandbox_account = SandboxAccount(type=account.type, verified=account.verified)
    sandbox = start_sandbox(project.cache_dir / "sandbox" / account.name, sandbox_account)
    if now is not None:  # the embedded account lives at the run's time, so daily quotas follow --now
        sandbox.admin.clock_at_least(now.timestamp())
    client = WeChatClient(sandbox_account.app_id, sandbox_account.app_secret, api_base=sandbox.base_url, **common)
    description = (f"the embedded sandbox at {sandbox.base_url} (no {account.app_id_env}/{account.app_secret_env} "
                   f"set): nothing reaches WeChat; `publisher sandbox` shows what went out")
    return Connection(client, description, sandbox)
