"""The user guide's screenshots (docs/images/*.png), made reproducibly with headless Chromium.

    python tools/docs_screenshots.py [--only NAME …] [--work DIR] [--keep]

The content comes from temporary clones of this repository (its committed HEAD), never from the working
tree; the publisher that runs on it is this checkout's package (PYTHONPATH, `python -P`). The pictures:

- preview-light.png / preview-dark.png: the phone preview of a sample article (`publisher build`); the dark
  one only when publisher/darkmode.py offers `dark_html`.
- serve-article.png: the preview server (`publisher serve`) showing that article.
- check-problems.png: `publisher check` on an article written with mistakes on purpose.
- calendar.png, publish-run.png: `publisher calendar` in the middle of the month and one `publisher publish`
  run, against the embedded sandbox.
- pr-summary.png: the pull request's job summary, when `publisher pr-report` exists.
- sandbox.png: the sandbox's page /sandbox/ after scripts/quickstart.sh.

Terminal output is captured with COLUMNS=100 FORCE_COLOR=1, turned into HTML by rich and photographed, so
the pictures show exactly what the commands print. Chromium is Debian's (publisher.browser), never
`playwright install`. Each PNG is limited in height and reduced to a palette when that keeps it small.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's publisher, in this process too
IMAGES = REPO / "docs" / "images"
MAX_BYTES = 300_000

# An article with the mistakes writers make; `publisher check` is photographed on it.
PROBLEM_ARTICLE = """\
---
title: 帆书 3.1 抢先看：AI 摘要、知识库和全新的团队空间，一次讲清楚
author: 小帆
cover: cover.jpg
coments: open
images:
  cover.jpg: {credit: 云帆设计组}
---

3.1 版本带来三项新功能。

![知识库](images/kb.png)

<script>alert("hi")</script>

<p style="font-family: Georgia; text-align: start">右对齐的说明文字。</p>
"""

# What the writer's pull request adds, for the job summary screenshot.
PR_ARTICLE = """\
---
title: 帆书 3.1 抢先看：AI 摘要来了
author: 小帆
digest: 3.1 的第一个新功能：一键生成会议纪要和长文的摘要。
cover: cover.jpg
comments: open
tag: [产品]
images:
  cover.jpg: {credit: 云帆设计组, license: 自有}
---

帆书 3.1 将在 12 月中旬上线。这一期先介绍第一个新功能：**AI 摘要**。

## 一键生成摘要

在任意文档里输入 `/AI 摘要`，帆书会读完全文，生成三到五条要点，放在文档开头。
"""

PR_PUSH = """
  - at: "2026-12-15 20:00"
    mode: publish
    articles: [2026/fanshu-3-1-preview]
"""

# GitHub renders a job summary's Markdown much like this.
SUMMARY_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #f6f8fa; }
main { display: block; width: 920px; margin: 12px; padding: 8px 24px 16px; background: #fff;
       border: 1px solid #d0d7de; border-radius: 6px; color: #1f2328;
       font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; }
h2 { font-size: 20px; border-bottom: 1px solid #d8dee4; padding-bottom: 6px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
table { border-collapse: collapse; margin: 0 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 5px 12px; }
th { background: #f6f8fa; font-weight: 600; }
code { font: 12px "Noto Sans Mono CJK SC", monospace; background: rgba(175,184,193,.2); padding: 2px 5px;
       border-radius: 6px; }
ul { padding-left: 24px; }
blockquote { margin: 0; padding: 0 12px; color: #59636e; border-left: 4px solid #d0d7de; }
</style></head><body><main>{body}</main></body></html>
"""

TERMINAL_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
{stylesheet}
/* box drawing from DejaVu Sans Mono, scaled to the half-em cell of Noto Sans Mono CJK (whose own box
   glyphs are full width), so rich's tables line up with Chinese text */
@font-face {{ font-family: "TermBox"; src: local("DejaVu Sans Mono"); unicode-range: U+2500-259F;
              size-adjust: 83.06%; }}
body {{ margin: 0; background: #e9e9ea; }}
.window {{ display: inline-block; margin: 14px; border-radius: 8px; overflow: hidden;
           box-shadow: 0 4px 16px rgba(0,0,0,.25); background: {background}; }}
.bar {{ height: 26px; background: #3a3a3c; color: #c8c8c8; font: 13px/26px "Noto Sans CJK SC", sans-serif;
        padding: 0 12px; white-space: pre; }}
pre {{ margin: 0; padding: 10px 14px 14px; color: {foreground}; background: {background};
       font-size: 14px; line-height: 1.35; }}
pre, code {{ font-family: "TermBox", "Noto Sans Mono CJK SC", monospace; }}
</style></head>
<body><div class="window"><div class="bar">{title}</div><pre><code>{code}</code></pre></div></body></html>
"""


# ---- running the publisher in a clone ----------------------------------------------------------

def clean_env(**extra: str) -> dict[str, str]:
    """No WeChat credentials (so the embedded sandbox is used), not GitHub Actions (approval stays off), and
    this checkout's package (with its mermaid.js in .publisher-cache/npm) whatever is installed elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "GITHUB_"))}
    env.pop("NO_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run(clone: Path, *args: str, check: bool = True, colour: bool = False) -> str:
    """`publisher ARGS` in the clone; returns stdout (ANSI colours kept when `colour`). `-P`: the package comes
    from PYTHONPATH (this checkout), not from the clone in the current folder."""
    extra = {"COLUMNS": "100", "FORCE_COLOR": "1", "TERM": "xterm-256color"} if colour else {}
    result = subprocess.run([sys.executable, "-P", "-m", "publisher", *args], cwd=clone, env=clean_env(**extra),
                            capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise SystemExit(f"publisher {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def clone(work: Path, name: str) -> Path:
    target = work / name
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    return target


def calendar_moments(clone_dir: Path) -> list[str]:
    """Five minutes after each article push, as scripts/quickstart.sh computes them."""
    import json
    from datetime import datetime, timedelta

    pushes = json.loads(run(clone_dir, "calendar", "--format", "json"))["pushes"]
    return [(datetime.fromisoformat(p["time"]) + timedelta(minutes=5)).isoformat()
            for p in pushes if p["mode"] in ("draft", "publish", "mass")]


# ---- pictures ----------------------------------------------------------------------------------

def shoot_url(url: str, target: Path, *, width: int, max_height: int, dark: bool = False,
              selector: str | None = None, viewport_height: int = 800) -> Path:
    """A PNG of a page at `width` CSS pixels (scale 1), cut at `max_height`, or of one element."""
    from publisher.browser import browser

    with browser() as instance:
        page = instance.new_page(viewport={"width": width, "height": viewport_height}, device_scale_factor=1,
                                 color_scheme="dark" if dark else "light")
        page.goto(url)
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready")
        target.parent.mkdir(parents=True, exist_ok=True)
        if selector:
            page.locator(selector).first.screenshot(path=str(target))
        else:
            height = min(max_height, page.evaluate("document.documentElement.scrollHeight"))
            page.screenshot(path=str(target), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": height})
    return shrink(target)


def shrink(png: Path) -> Path:
    """Keep a screenshot small: a 256-colour palette when that saves space (text stays sharp)."""
    from PIL import Image

    if png.stat().st_size <= 60_000:
        return png
    with Image.open(png) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    candidate = png.with_suffix(".small.png")
    reduced.save(candidate, optimize=True)
    if candidate.stat().st_size < png.stat().st_size:
        candidate.replace(png)
    else:
        candidate.unlink()
    return png


def terminal_png(ansi: str, target: Path, title: str, work: Path) -> Path:
    """Photograph terminal output: ANSI → rich → HTML page → PNG of the window."""
    from rich.console import Console
    from rich.terminal_theme import MONOKAI
    from rich.text import Text

    with open(os.devnull, "w") as nowhere:
        console = Console(record=True, width=100, force_terminal=True, color_system="truecolor", file=nowhere)
        console.print(Text.from_ansi(ansi.rstrip("\n")))
    page = console.export_html(theme=MONOKAI, code_format=TERMINAL_PAGE.replace("{title}", html.escape(title)),
                               inline_styles=True)
    html_path = work / f"{target.stem}.html"
    html_path.write_text(page, encoding="utf-8")
    return shoot_url(html_path.as_uri(), target, width=960, max_height=1400, selector=".window")


# ---- the screenshots ---------------------------------------------------------------------------

def preview(work: Path) -> list[Path]:
    q = clone(work, "preview")
    out = work / "x"
    run(q, "build", "content/2026/fanshu-3-launch", "--out", str(out))
    page = out / "2026/fanshu-3-launch/preview.html"
    made = [shoot_url(page.as_uri(), IMAGES / "preview-light.png", width=390, max_height=1300)]
    try:
        from publisher.darkmode import dark_html  # noqa: F401
    except ImportError:
        print("  no publisher/darkmode.py (dark_html): no dark-mode screenshot", file=sys.stderr)
    else:
        made.append(dark_preview(page, work))
    return made


def dark_preview(page: Path, work: Path) -> Path:
    from publisher.darkmode import dark_html

    dark_page = page.with_name("preview-dark.html")
    dark_page.write_text(dark_html(page.read_text(encoding="utf-8")), encoding="utf-8")
    return shoot_url(dark_page.as_uri(), IMAGES / "preview-dark.png", width=390, max_height=1300, dark=True)


def check_problems(work: Path) -> list[Path]:
    q = clone(work, "problems")
    folder = q / "content/2026/draft-with-problems"
    folder.mkdir(parents=True)
    shutil.copy(q / "content/2026/weekly-tips-12/cover.jpg", folder / "cover.jpg")
    (folder / "index.md").write_text(PROBLEM_ARTICLE, encoding="utf-8")
    output = run(q, "check", "content/2026/draft-with-problems", check=False, colour=True)
    return [terminal_png("$ publisher check content/2026/draft-with-problems\n" + output,
                         IMAGES / "check-problems.png", "publisher check", work)]


def calendar_and_publish(work: Path) -> list[Path]:
    """Mid-month: the first two pushes went out, the rest are ahead."""
    q = clone(work, "calendar")
    moments = calendar_moments(q)
    run(q, "publish", "--now", moments[0])
    command = ["publish", "--now", moments[1]]
    published = run(q, *command, colour=True)
    shots = [terminal_png(f"$ publisher {' '.join(command)}\n" + published, IMAGES / "publish-run.png",
                          "publisher publish", work)]
    now = "2026-12-09 10:00"
    calendar = run(q, "calendar", "--now", now, colour=True)
    shots.append(terminal_png(f'$ publisher calendar --now "{now}"\n' + calendar, IMAGES / "calendar.png",
                              "publisher calendar", work))
    return shots


def pr_summary(work: Path) -> list[Path]:
    """A writer's branch (a new article and its calendar entry) and the report the PR check writes for it."""
    q = clone(work, "report")
    probe = subprocess.run([sys.executable, "-P", "-m", "publisher", "pr-report", "--help"], cwd=q, env=clean_env(),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print("  no `publisher pr-report`: no job summary screenshot", file=sys.stderr)
        return []
    git = ["git", "-c", "user.name=小帆", "-c", "user.email=writer@example.com"]
    subprocess.run([*git, "checkout", "--quiet", "-b", "writer/fanshu-3-1-preview"], cwd=q, check=True)
    folder = q / "content/2026/fanshu-3-1-preview"
    folder.mkdir(parents=True)
    shutil.copy(q / "content/2026/weekly-tips-12/cover.jpg", folder / "cover.jpg")
    (folder / "index.md").write_text(PR_ARTICLE, encoding="utf-8")
    calendar = q / "calendar.yaml"
    text = calendar.read_text(encoding="utf-8")
    calendar.write_text(text.replace("\nrules:", PR_PUSH + "\nrules:", 1), encoding="utf-8")
    subprocess.run([*git, "add", "content", "calendar.yaml"], cwd=q, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "帆书 3.1 抢先看"], cwd=q, check=True)
    summary = work / "summary.md"
    run(q, "pr-report", "--base", "main", "--head", "HEAD", "--out", str(work / "pr-preview"),
        "--summary", str(summary))
    import markdown

    body = markdown.markdown(summary.read_text(encoding="utf-8"), extensions=["tables", "fenced_code"])
    page = work / "pr-summary.html"
    page.write_text(SUMMARY_PAGE.replace("{body}", body), encoding="utf-8")
    return [shoot_url(page.as_uri(), IMAGES / "pr-summary.png", width=1000, max_height=1400, selector="main")]


def serve(work: Path) -> list[Path]:
    """`publisher serve`'s page for one article, as a writer sees it while writing."""
    import json
    import socket
    import time
    import urllib.request

    q = clone(work, "fanshu-articles")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-P", "-m", "publisher", "serve", "--port", str(port)], cwd=q,
                              env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 120
        while True:  # until the server has checked every article once
            try:
                with opener.open(f"{base}/status", timeout=5) as answer:
                    status = json.loads(answer.read())
                if not status.get("warming") and not status.get("unchecked"):
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("publisher serve did not come up")
            time.sleep(0.5)
        return [shoot_url(f"{base}/a/2026/fanshu-3-launch", IMAGES / "serve-article.png", width=1200,
                          max_height=900, viewport_height=900)]
    finally:
        server.terminate()
        server.wait(timeout=30)


def sandbox(work: Path) -> list[Path]:
    q = clone(work, "q")
    result = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=q, env=clean_env(), capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"quickstart failed:\n{result.stdout}{result.stderr}")
    from publisher.wechat.sandbox import start_sandbox

    running = start_sandbox(q / ".publisher-cache/sandbox/main")
    try:
        return [shoot_url(f"{running.base_url}/sandbox/", IMAGES / "sandbox.png", width=760, max_height=1000,
                          viewport_height=300)]
    finally:
        running.stop()


SHOTS = {"preview": preview, "serve": serve, "check": check_problems, "calendar": calendar_and_publish,
         "pr-summary": pr_summary, "sandbox": sandbox}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SHOTS), help="make only these")
    parser.add_argument("--work", type=Path, help="folder for the clones (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the clones and pages afterwards")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="docs-shots-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for name in args.only or SHOTS:
            print(f"{name}:")
            for png in SHOTS[name](work):
                size = png.stat().st_size
                warning = "  (over 300 KB!)" if size > MAX_BYTES else ""
                print(f"  wrote {png.relative_to(REPO)} ({size // 1000} KB){warning}")
    finally:
        if args.keep or args.work:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
