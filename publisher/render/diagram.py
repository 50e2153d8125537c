"""Diagrams: ```mermaid blocks → PNG images, rendered by mermaid.js in headless Chromium.

WeChat strips most of what Mermaid's SVG needs (ids, <defs>, markers, foreignObject), so a diagram
is sent as a picture. Rendering is offline: Debian's Chromium (never `playwright install`) and
mermaid.js from the npm package, loaded into a blank page with `add_script_tag`.

One browser serves the whole process. It is started on the first diagram that is not cached and
closed at exit, and driven from a thread of its own: Playwright's sync API is tied to the thread
that started it, and this keeps diagrams working from any thread (the preview server's, say) and
beside other Playwright users in the main thread. Each PNG is cached under
`<cache_dir>/diagrams/`, keyed by the source, the mermaid.js build and `RENDERER`, with a JSON
sidecar giving its display size (or Mermaid's error, for a source Mermaid rejects), so a diagram
is rendered once and later builds never start a browser for it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import os
import queue
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

RENDERER = "mermaid-png-1"  # bump when the picture changes for the same source: it invalidates the cache
THEME = "neutral"
FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
MAX_WIDTH = 640  # CSS px: the width of WeChat's article column, at most
SCALE = 2  # device pixels per CSS pixel in the PNG, for sharp text on phones
MAX_BYTES = 1_000_000  # WeChat's limit for images in the body is 1 MB; stay below either reading of it
RENDER_TIMEOUT_MS = 20_000  # one diagram; Mermaid itself is the only thing that could take this long
ANSWER_TIMEOUT_S = 90.0  # the browser thread as a whole, including starting Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ENV_VAR = "PUBLISHER_MERMAID_JS"
MERMAID_JS = "node_modules/mermaid/dist/mermaid.min.js"
NPM_PREFIX = ".publisher-cache/npm"

INSTALL_MERMAID = (f"run `npm install --prefix {NPM_PREFIX} mermaid@11` in the project (or `npm install mermaid`), "
                   f"or set {ENV_VAR} to a mermaid.min.js")
INSTALL_CHROMIUM = "run `apt-get install chromium fonts-noto-cjk` (or bash scripts/setup.sh)"
INSTALL_PLAYWRIGHT = "run `pip install playwright` (never `playwright install`: the system Chromium is used)"


@dataclass(frozen=True)
class Diagram:
    path: Path  # the PNG file (in the cache folder)
    width: int  # CSS pixels to display it at (<= MAX_WIDTH); the PNG has SCALE times as many, or fewer if it was too big
    height: int


class DiagramUnavailable(Exception):
    """No browser, no Playwright or no mermaid.js here: the message says what to install."""


class DiagramError(Exception):
    """The diagram's source is invalid. The message is the first line of Mermaid's own error."""

    def __init__(self, message: str, detail: str | None = None, *, cacheable: bool = False):
        super().__init__(message)
        self.cacheable = cacheable  # Mermaid's verdict on the source, not a timeout: the same source fails again
        self.detail = detail or message  # Mermaid's whole message (a parse error points at the spot)
        found = re.search(r"\bon line (\d+)", self.detail)
        self.line = int(found.group(1)) if found else None  # 1-based, within the diagram's source


# a source checkout (pip install -e) keeps the copy scripts/setup.sh installed beside the package
CHECKOUT_NPM = Path(__file__).resolve().parents[2] / NPM_PREFIX


def find_mermaid_js(root: Path) -> Path | None:
    """The browser build of mermaid.js: $PUBLISHER_MERMAID_JS, the project's node_modules, its npm cache,
    then the publisher checkout's own npm cache."""
    candidates = []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]).expanduser())
    candidates += [root / MERMAID_JS, root / NPM_PREFIX / MERMAID_JS]
    candidates.append(CHECKOUT_NPM / MERMAID_JS)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None


def render_mermaid(source: str, cache_dir: Path, *, mermaid_js: Path | None = None) -> Diagram:
    """The PNG of a Mermaid diagram, from the cache or rendered now.

    Without `mermaid_js`, it is looked for with `find_mermaid_js` in the project that holds
    `cache_dir` (its parent), then in `cache_dir/npm`.
    """
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    script = _mermaid_script(cache_dir, mermaid_js)
    key = hashlib.sha256("\0".join([RENDERER, THEME, str(MAX_WIDTH), str(SCALE), str(MAX_BYTES),
                                    _fingerprint(script), source]).encode()).hexdigest()
    folder = cache_dir / "diagrams"
    png_path, meta_path = folder / f"{key}.png", folder / f"{key}.json"
    cached = _read_cached(png_path, meta_path)
    if cached:
        return cached

    _check_tools()
    try:
        png, width, height = _browser.render(script, source)
    except DiagramError as exc:
        if exc.cacheable:  # so `check` does not start a browser again for the same mistake
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
                _write_atomically(meta_path, json.dumps({"error": str(exc), "detail": exc.detail}).encode())
        raise
    png = _fit(png, width, height)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(png_path, png)  # the sidecar last: it marks the PNG as complete
        _write_atomically(meta_path, json.dumps({"width": width, "height": height, "bytes": len(png),
                                                 "mermaid": _fingerprint(script)}).encode())
    except OSError as exc:
        raise DiagramUnavailable(f"cannot write the diagram cache in {folder}: {exc.strerror or exc}") from None
    return Diagram(path=png_path, width=width, height=height)


# ---- mermaid.js and the cache ----

def _mermaid_script(cache_dir: Path, mermaid_js: Path | None) -> Path:
    if mermaid_js is not None:
        if Path(mermaid_js).is_file():
            return Path(mermaid_js).resolve()
        raise DiagramUnavailable(f"mermaid.js not found at {mermaid_js}: {INSTALL_MERMAID}")
    found = find_mermaid_js(cache_dir.parent)
    if found is None and (cache_dir / "npm" / MERMAID_JS).is_file():
        found = (cache_dir / "npm" / MERMAID_JS).resolve()
    if found is None:
        hint = ""
        if os.environ.get(ENV_VAR):
            hint = f" ({ENV_VAR} is set to {os.environ[ENV_VAR]}, which is not a file)"
        raise DiagramUnavailable(f"mermaid.js is not installed{hint}: {INSTALL_MERMAID}")
    return found


def _fingerprint(script: Path) -> str:
    """Which build of mermaid.js: the npm package's version (when beside it) and the file's size."""
    version = "unknown"
    try:
        package = json.loads((script.parent.parent / "package.json").read_text(encoding="utf-8"))
        if isinstance(package, dict) and package.get("name") == "mermaid":
            version = str(package.get("version"))
    except (OSError, ValueError):
        pass
    return f"mermaid@{version}:{script.stat().st_size}"


def _read_cached(png_path: Path, meta_path: Path) -> Diagram | None:
    """The cached diagram, or its cached DiagramError (raised), or None."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if isinstance(meta.get("error"), str):
            raise DiagramError(meta["error"], str(meta.get("detail") or meta["error"]), cacheable=True)
        width, height = meta["width"], meta["height"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a missing or damaged entry only costs a render
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return None
    if not png_path.is_file():
        return None
    return Diagram(path=png_path, width=width, height=height)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)  # never a half-written file, even with two builds at once
    finally:
        temporary.unlink(missing_ok=True)


def _fit(png: bytes, width: int, height: int) -> bytes:
    """The PNG at SCALE, recompressed; fewer colours, then fewer pixels, if it is over MAX_BYTES."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    image = image.convert("RGB")  # the page is white: the alpha channel only costs bytes
    scale = image.width / width
    while True:
        candidate = _encode(image)
        if len(candidate) > MAX_BYTES:
            candidate = _encode(image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
        if len(candidate) <= MAX_BYTES:
            return candidate
        if scale <= 0.5:
            raise DiagramError(f"the diagram is too large: its PNG is over {MAX_BYTES // 1000} KB "
                               f"even at half a pixel per CSS pixel; split it into smaller diagrams")
        scale = max(0.5, scale * 0.75)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)


def _encode(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ---- the browser ----

def _chromium_path() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _check_tools() -> None:
    if _chromium_path() is None:
        raise DiagramUnavailable(f"Chromium is not installed (needed to draw diagrams): {INSTALL_CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise DiagramUnavailable(f"Playwright is not installed (needed to draw diagrams): {INSTALL_PLAYWRIGHT}") from None


PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8">
<style>
html, body {{ margin: 0; padding: 0; background: #fff; font-family: {FONT_FAMILY}; }}
#out > svg {{ display: block; background: #fff; }}
</style></head>
<body><div id="out"></div></body></html>"""

SETUP = """({font, theme}) => {
  if (typeof mermaid === "undefined" || typeof mermaid.render !== "function") return false;
  mermaid.initialize({
    startOnLoad: false, securityLevel: "strict", theme, fontFamily: font, htmlLabels: false,
    flowchart: {htmlLabels: false}, themeVariables: {background: "#ffffff", fontFamily: font},
  });
  window.__diagrams = 0;
  return true;
}"""

RENDER = """async ({source, maxWidth, timeout}) => {
  const out = document.getElementById("out");
  out.replaceChildren();
  const id = "diagram" + (++window.__diagrams);
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject("late"), timeout);
  });
  try {
    const {svg} = await Promise.race([mermaid.render(id, source), late]);
    out.innerHTML = svg;
  } catch (error) {
    if (error === "late") return {error: `Mermaid took longer than ${timeout / 1000} s to draw the diagram`, late: true};
    return {error: String((error && error.message) || error || "Mermaid could not render the diagram")};
  } finally {
    clearTimeout(timer);
    for (const stray of [...document.body.children]) if (stray !== out) stray.remove();
  }
  const svg = out.querySelector("svg");
  if (!svg) return {error: "Mermaid drew nothing"};
  const box = svg.viewBox && svg.viewBox.baseVal;
  let w = box && box.width, h = box && box.height;
  if (!w || !h) ({width: w, height: h} = svg.getBoundingClientRect());
  if (!w || !h) return {error: "the diagram is empty"};
  const width = Math.min(Math.ceil(w), maxWidth);
  const height = Math.max(1, Math.ceil(h * width / w));
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.style.maxWidth = "none";
  return {width, height};
}"""


class _Browser:
    """The process's headless Chromium, owned by one daemon thread that runs the callers' jobs in turn."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._exit_hook = False

    def render(self, script: Path, source: str) -> tuple[bytes, int, int]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._start_thread()  # also after a fork: the parent's thread and browser are not ours
            jobs = self._jobs
        done, box = threading.Event(), {}
        jobs.put(((script, source), done, box))
        if not done.wait(ANSWER_TIMEOUT_S):
            with self._lock:
                if self._jobs is jobs:
                    self._jobs = self._thread = None
            jobs.put(None)  # the stuck thread closes its Chromium if it ever gets free; the next call starts anew
            raise DiagramError(f"Chromium did not finish drawing the diagram in {ANSWER_TIMEOUT_S:.0f} s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def close(self) -> None:
        with self._lock:
            jobs, thread = self._jobs, self._thread
            self._jobs = self._thread = None
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            jobs.put(None)
            thread.join(10)

    def _start_thread(self) -> None:
        self._jobs = queue.Queue()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=_serve, args=(self._jobs,), name="publisher-diagrams", daemon=True)
        self._thread.start()
        if not self._exit_hook:
            atexit.register(self.close)  # daemon threads still run while atexit hooks do
            self._exit_hook = True


def _serve(jobs: queue.Queue) -> None:
    session = _Session()
    try:
        while True:
            job = jobs.get()
            if job is None:
                return
            args, done, box = job
            try:
                box["value"] = session.render(*args)
            except BaseException as exc:  # handed to the caller, whatever it is
                box["error"] = exc
            finally:
                done.set()
    finally:
        session.close()


class _Session:
    """Playwright, Chromium and a page with mermaid.js loaded: used only by the thread that made them."""

    def __init__(self):
        self.playwright = None
        self.chromium = None
        self.page = None
        self.page_script: tuple | None = None

    def render(self, script: Path, source: str) -> tuple[bytes, int, int]:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self._draw(script, source)
        except PlaywrightError:
            self.close()  # Chromium crashed or hung up: one more try with a new one
            try:
                return self._draw(script, source)
            except PlaywrightError as exc:
                self.close()
                raise DiagramUnavailable(f"Chromium failed while drawing the diagram: {_first_line(str(exc))}; "
                                         f"check that `{_chromium_path()} --headless` starts") from None

    def _draw(self, script: Path, source: str) -> tuple[bytes, int, int]:
        page = self._mermaid_page(script)
        result = page.evaluate(RENDER, {"source": source, "maxWidth": MAX_WIDTH, "timeout": RENDER_TIMEOUT_MS})
        if "error" in result:
            raise DiagramError(_first_line(result["error"]).rstrip(":") or "invalid diagram", result["error"],
                               cacheable=not result.get("late"))
        png = page.locator("#out > svg").screenshot(type="png", animations="disabled", timeout=RENDER_TIMEOUT_MS)
        page.evaluate("() => document.getElementById('out').replaceChildren()")
        return png, int(result["width"]), int(result["height"])

    def _mermaid_page(self, script: Path):
        stat = script.stat()
        wanted = (str(script), stat.st_size, stat.st_mtime_ns)
        if self.page is not None and self.page_script == wanted and self.chromium.is_connected():
            return self.page
        if self.chromium is None or not self.chromium.is_connected():
            self._launch()
        if self.page is not None:
            self.page.close()
            self.page = self.page_script = None
        page = self.chromium.new_page(viewport={"width": MAX_WIDTH + 160, "height": 600}, device_scale_factor=SCALE)
        page.route("**/*", lambda route: route.abort())  # nothing may come from the network
        page.set_content(PAGE)
        page.add_script_tag(path=str(script))
        if not page.evaluate(SETUP, {"font": FONT_FAMILY, "theme": THEME}):
            page.close()
            raise DiagramUnavailable(f"{script} is not the browser build of mermaid.js "
                                     f"(expected dist/mermaid.min.js of the npm package): {INSTALL_MERMAID}")
        self.page, self.page_script = page, wanted
        return page

    def _launch(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        self.close()
        executable = _chromium_path()
        if executable is None:
            raise DiagramUnavailable(f"Chromium is not installed (needed to draw diagrams): {INSTALL_CHROMIUM}")
        try:
            self.playwright = sync_playwright().start()
            self.chromium = self.playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            self.close()
            raise DiagramUnavailable(f"Chromium ({executable}) could not start: {_first_line(str(exc))}; "
                                     f"{INSTALL_CHROMIUM}") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone, or never started
            if self.chromium is not None:
                self.chromium.close()
        with contextlib.suppress(Exception):
            if self.playwright is not None:
                self.playwright.stop()
        self.playwright = self.chromium = self.page = self.page_script = None


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


_browser = _Browser()
