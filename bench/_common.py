"""Shared helpers for the benchmark scripts: timing statistics, tables, machine facts, article text.

Not a benchmark itself (the leading underscore keeps `run_all.py` from running it).
"""

from __future__ import annotations

import io
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# measure this checkout, whatever another checkout installed in editable mode
if str(REPO) not in sys.path[:1]:
    sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
SHARED = REPO.parent / "shared"


# ---- statistics and output -----------------------------------------------------------------------

@dataclass
class Series:
    """Wall times of repeated runs of one thing, in seconds."""

    name: str
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def low(self) -> float:
        return min(self.times)

    @property
    def high(self) -> float:
        return max(self.times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain Markdown table, so the output can be pasted into BENCHMARKS.md as it is."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n### {title}\n")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print()


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT MET"


def machine() -> str:
    """One line naming the machine, printed at the top of every benchmark."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
            f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}, code at {revision()}")


def revision() -> str:
    """The commit measured, and whether publisher/ had uncommitted changes at the time."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "publisher", "pyproject.toml"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return head + (" + uncommitted changes in publisher/" if dirty else "")


def timed_run(command: list[str], cwd: Path | None = None, expect: tuple[int, ...] = (0,)) -> float:
    """Wall time of one subprocess, output captured; fails loudly on an unexpected exit code."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in expect:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def publisher_command() -> list[str]:
    """The `publisher` console script pip installed next to this interpreter (not a pyenv shim)."""
    beside = Path(sys.executable).parent / "publisher"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("publisher")
    if found:
        return [found]
    return [sys.executable, "-m", "publisher"]


# ---- images --------------------------------------------------------------------------------------

def jpeg_bytes(width: int = 900, height: int = 383, seed: int = 0) -> bytes:
    """A small JPEG (a gradient with a band), made by Pillow; 900×383 is WeChat's ideal cover size."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (37, 99, 235))
    draw = ImageDraw.Draw(image)
    rng = random.Random(seed)
    for x in range(0, width, 30):
        shade = 120 + rng.randrange(100)
        draw.rectangle([x, height // 3, x + 29, 2 * height // 3], fill=(shade, 180, 238))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def png_bytes(width: int = 640, height: int = 360) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (240, 244, 250))
    ImageDraw.Draw(image).rectangle([40, 40, width - 40, height - 40], outline=(37, 99, 235), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# ---- generated Chinese articles ------------------------------------------------------------------

PHRASES = [
    "内容即代码", "每一篇文章都放在仓库里", "通过合并请求审阅", "发布前自动检查", "微信公众号的排版限制很多",
    "样式必须内联", "外部链接会被转成文末引用", "代码块需要保留缩进", "表格在手机上要能横向阅读",
    "公式被渲染成矢量图", "图片要有来源和授权", "标题不能超过三十二个字", "摘要默认取第一段",
    "团队协作时每个人都能看到修改", "持续集成在每次提交时运行", "缓存让第二次检查几乎不花时间",
    "渲染结果与预览逐字节一致", "作者只需要写 Markdown", "编辑负责审阅和排期", "发布只会发生一次",
]
TOPICS = ["写作流程", "排版规则", "发布日历", "图片处理", "代码示例", "数学公式", "团队协作", "性能优化",
          "常见问题", "版本管理", "审阅清单", "数据统计"]
CODE_BLOCKS = [
    ("python", 'def word_count(text: str) -> int:\n    """统计中文字符数。"""\n    total = 0\n'
               "    for ch in text:\n        if '\\u4e00' <= ch <= '\\u9fff':\n            total += 1\n"
               "    return total  # 计数 {n}\n"),
    ("javascript", "function debounce(fn, wait) {{\n  let timer = null;\n  return (...args) => {{\n"
                   "    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), wait); // {n}\n  }};\n}}\n"),
    ("bash", "publisher check --format json > findings.json\npublisher build --out build\n"
             "echo \"第 {n} 次构建完成\"\n"),
    ("toml", '[tool.publisher]\ncontent = "content"\ntheme = "default"\ntimezone = "Asia/Shanghai"\n'
             "# 版本 {n}\n"),
]
INLINE_FORMULAS = [r"E = mc^2", r"a^2 + b^2 = c^2", r"\sqrt{{x^2 + y^2}}", r"\frac{{1}}{{n}}",
                   r"\alpha + \beta = \gamma", r"O(n \log n)"]
DISPLAY_FORMULAS = [r"\int_0^1 x^2\,dx = \frac{{1}}{{3}}", r"\sum_{{k=1}}^{{n}} k = \frac{{n(n+1)}}{{2}}",
                    r"\lim_{{x \to 0}} \frac{{\sin x}}{{x}} = 1"]


def sentence(rng: random.Random) -> str:
    words = rng.sample(PHRASES, rng.randint(2, 4))
    return "，".join(words) + rng.choice(["。", "。", "！", "？"])


def paragraph(rng: random.Random, sentences: int) -> str:
    parts = [sentence(rng) for _ in range(sentences)]
    if rng.random() < 0.5:
        i = rng.randrange(len(parts))
        parts[i] = f"**{parts[i][:-1]}**{parts[i][-1]}"
    if rng.random() < 0.4:
        parts.append("配置项写在 `pyproject.toml` 的 `[tool.publisher]` 里。")
    return "".join(parts)


def formula(template: str, n: int | None) -> str:
    """The formula; with `n`, made unique by adding the counter so no memo can reuse its SVG."""
    latex = template.format()
    return latex if n is None else f"{latex} + {n}"


def article_body(target_bytes: int, seed: int, *, counter: int = 0, fresh_math: bool = False,
                 code_blocks: int = 2, table: bool = True, inline_math: int = 1, display_math: int = 1) -> str:
    """Markdown body of about `target_bytes` UTF-8 bytes: headings, paragraphs, lists, code, a table, math.

    `counter` appears in the text (and in every formula when `fresh_math`), so repeated renders of
    "the same" article are different inputs. `inline_math` counts formulas (two to a sentence),
    `display_math` counts $$ blocks. Code, the table and the math are spread evenly over the sections.
    """
    rng = random.Random(seed)
    fresh = counter if fresh_math else None
    extras = [("code", c) for c in rng.sample(CODE_BLOCKS, code_blocks)]
    extras += [("table", None)] if table else []
    extras += [("math-inline", min(2, inline_math - i)) for i in range(0, inline_math, 2)]
    extras += [("math-block", DISPLAY_FORMULAS[i % len(DISPLAY_FORMULAS)]) for i in range(display_math)]
    rng.shuffle(extras)
    prose = f"这是第 {counter} 次生成的文章。{paragraph(rng, 3)}"
    sections: list[list[str]] = []
    size = len(prose.encode()) + sum(_EXTRA_BYTES[kind] for kind, _ in extras)
    while size < target_bytes or len(sections) < len(extras):
        part = [f"## {len(sections) + 1}. {rng.choice(TOPICS)}", paragraph(rng, rng.randint(2, 5))]
        if rng.random() < 0.5:
            part.append("\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 4))))
        if rng.random() < 0.3:
            part.append("\n".join(f"{i}. {sentence(rng)}" for i in range(1, rng.randint(3, 5))))
        if rng.random() < 0.2:
            part.append(f"> {sentence(rng)}")
        sections.append(part)
        size += len("\n\n".join(part).encode()) + 2
    for index, (kind, value) in enumerate(extras):
        sections[index * len(sections) // len(extras)].append(_extra(kind, value, rng, counter, fresh))
    return "\n\n".join([prose, *("\n\n".join(part) for part in sections)]) + "\n"


_EXTRA_BYTES = {"code": 200, "table": 300, "math-inline": 150, "math-block": 80}


def _extra(kind: str, value, rng: random.Random, counter: int, fresh: int | None) -> str:
    if kind == "code":
        language, source = value
        return f"```{language}\n{source.format(n=counter)}```"
    if kind == "table":
        rows = "\n".join(f"| {rng.choice(TOPICS)} | {rng.randint(1, 99)} | {rng.choice(PHRASES)} |"
                         for _ in range(rng.randint(3, 6)))
        return f"| 项目 | 数量 | 说明 |\n| --- | ---: | :---: |\n{rows}"
    if kind == "math-inline":
        chosen = [f"${formula(latex, fresh)}$" for latex in rng.sample(INLINE_FORMULAS, value)]
        return f"行内公式 {' 和 '.join(chosen)} 都会被渲染成矢量图，与正文基线对齐。"
    return f"块级公式如下：\n\n$$\n{formula(value, fresh)}\n$$"
