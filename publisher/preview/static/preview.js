// publisher serve: live reload, the article page's controls, the index filter. No dependencies.
(function () {
  "use strict";

  const body = document.body;
  let watching = (body.dataset.watch || "").split(/\s+/).filter(Boolean);
  let refreshing = null;
  let again = false;

  // ---- live reload: which events concern this page, and swapping in the new #live ----------------

  function concerns(event) {
    if (event.kind === "article") {
      return watching.includes("article:*") || (event.key && watching.includes("article:" + event.key));
    }
    if (event.kind === "sandbox") return watching.includes("sandbox:" + event.account);
    return watching.includes(event.kind);
  }

  function setLive(state) {
    const badge = document.getElementById("pv-live");
    if (badge) badge.dataset.state = state;
  }

  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    setLive("busy");
    refreshing = (async () => {
      try {
        const response = await fetch(location.href, { cache: "no-store", headers: { "X-Preview-Refresh": "1" } });
        const text = await response.text();
        const fresh = new DOMParser().parseFromString(text, "text/html");
        const incoming = fresh.getElementById("live");
        const current = document.getElementById("live");
        if (!incoming || !current) return;
        const scroller = document.getElementById("pv-scroll");
        const top = scroller ? scroller.scrollTop : 0;
        current.replaceChildren(...Array.from(incoming.childNodes, (node) => document.importNode(node, true)));
        const after = document.getElementById("pv-scroll");
        if (after) after.scrollTop = top;
        document.title = fresh.title;
        body.dataset.watch = fresh.body.dataset.watch || "";
        watching = body.dataset.watch.split(/\s+/).filter(Boolean);
        body.dataset.version = String(Number(body.dataset.version || 0) + 1);
        applyFilter();
        document.dispatchEvent(new CustomEvent("preview:updated"));
      } catch (error) {
        console.warn("preview: refresh failed", error);
      } finally {
        refreshing = null;
        setLive(source && source.readyState === 1 ? "on" : "off");
        if (again) {
          again = false;
          refresh();
        }
      }
    })();
    return refreshing;
  }

  let source = null;
  function connect() {
    if (!window.EventSource) return;
    source = new EventSource("/events");
    source.addEventListener("hello", (message) => {
      setLive("on");
      const hello = JSON.parse(message.data);
      if (hello.boot !== body.dataset.boot) {
        body.dataset.boot = hello.boot; // the server restarted: what is shown may be stale
        refresh();
      }
    });
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (concerns(event)) refresh();
    };
    source.onerror = () => setLive("off"); // EventSource reconnects by itself
  }
  window.addEventListener("pagehide", () => source && source.close());

  // ---- article page: toggles, findings, copy -----------------------------------------------------

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("a[data-toggle]");
    if (toggle && !event.metaKey && !event.ctrlKey) {
      event.preventDefault();
      history.replaceState(null, "", toggle.href);
      refresh();
      return;
    }
    const finding = event.target.closest(".pv-finding[role=button]");
    if (finding) {
      highlight(finding);
      return;
    }
    const copy = event.target.closest("#pv-copy");
    if (copy) copyArticle(copy);
  });

  document.addEventListener("keydown", (event) => {
    const finding = event.target.closest && event.target.closest(".pv-finding[role=button]");
    if (finding && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      highlight(finding);
    }
  });

  function highlight(finding) {
    document.querySelectorAll(".pv-hl").forEach((node) => node.classList.remove("pv-hl"));
    document.querySelectorAll(".pv-finding.active").forEach((node) => node.classList.remove("active"));
    finding.classList.add("active");
    let place = null;
    const target = finding.dataset.target;
    const line = Number(finding.dataset.findingLine || 0);
    if (target) {
      place = document.querySelector('.pv-phone [data-target="' + target + '"], .pv-side [data-target="' + target + '"]');
    }
    if (!place && line) {
      // the element whose Markdown line is the closest at or before the finding's (the innermost on ties)
      let best = -1;
      document.querySelectorAll("#pv-content [data-line]").forEach((node) => {
        const at = Number(node.dataset.line);
        if (at <= line && at >= best) {
          best = at;
          place = node;
        }
      });
    }
    // an element that shows nothing (a missing image, an empty box) is shown through the block around it
    const invisible = (node) => (node.tagName === "IMG" && !node.naturalWidth) || node.getBoundingClientRect().height < 4;
    while (place && place.parentElement && place.parentElement.id !== "pv-content" && invisible(place)) {
      place = place.parentElement;
    }
    if (!place) {
      finding.classList.remove("missing");
      void finding.offsetWidth;
      finding.classList.add("missing");
      return;
    }
    place.classList.add("pv-hl");
    const scroller = place.closest("#pv-scroll");
    if (scroller) { // scroll the phone's screen only, not the page around it
      const box = place.getBoundingClientRect();
      const frame = scroller.getBoundingClientRect();
      scroller.scrollBy({ top: box.top - frame.top - (frame.height - Math.min(box.height, frame.height)) / 2,
                          behavior: "smooth" });
    } else {
      place.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function exactHtml() {
    const holder = document.getElementById("pv-exact-html");
    return holder ? JSON.parse(holder.textContent) : null;
  }

  async function copyArticle(button) {
    const html = exactHtml();
    if (html === null) return;
    const text = new DOMParser().parseFromString(html, "text/html").body.textContent || "";
    let copied = false;
    try {
      if (!navigator.clipboard || !window.ClipboardItem) throw new Error("no asynchronous clipboard");
      await navigator.clipboard.write([new ClipboardItem({
        "text/html": new Blob([html], { type: "text/html" }),
        "text/plain": new Blob([text], { type: "text/plain" }),
      })]);
      copied = true;
    } catch (error) {
      copied = legacyCopy(html, text);
    }
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.classList.toggle("done", copied);
    button.classList.toggle("failed", !copied);
    button.textContent = copied ? "已复制 Copied — paste into the WeChat editor" : "复制失败 Copy failed: use Exact HTML";
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove("done", "failed");
    }, 2600);
  }

  // Older browsers: a copy event whose data we set ourselves, so the HTML is still exactly ours.
  function legacyCopy(html, text) {
    const onCopy = (event) => {
      event.clipboardData.setData("text/html", html);
      event.clipboardData.setData("text/plain", text);
      event.preventDefault();
    };
    const content = document.getElementById("pv-content");
    const selection = window.getSelection();
    const range = document.createRange();
    if (content) range.selectNodeContents(content);
    selection.removeAllRanges();
    selection.addRange(range);
    document.addEventListener("copy", onCopy, { once: true });
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.removeEventListener("copy", onCopy);
    selection.removeAllRanges();
    return copied;
  }

  // ---- index: client-side filter ------------------------------------------------------------------

  function applyFilter() {
    const input = document.getElementById("pv-filter");
    if (!input) return;
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    let total = 0;
    document.querySelectorAll("[data-search]").forEach((row) => {
      const hay = row.dataset.search;
      const match = words.every((word) => hay.includes(word));
      row.hidden = !match;
      total += 1;
      if (match) shown += 1;
    });
    const count = document.getElementById("pv-count");
    if (count) count.textContent = words.length ? shown + " of " + total : total + " articles";
    const none = document.getElementById("pv-no-match");
    if (none) none.hidden = shown > 0 || total === 0;
    const url = new URL(location.href);
    if (words.length) url.searchParams.set("q", input.value.trim());
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
  }

  document.addEventListener("input", (event) => {
    if (event.target.id === "pv-filter") applyFilter();
  });

  const filter = document.getElementById("pv-filter");
  if (filter) {
    filter.value = new URL(location.href).searchParams.get("q") || "";
    applyFilter();
  }
  connect();
})();
