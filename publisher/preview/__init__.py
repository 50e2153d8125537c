"""`publisher serve`: the local preview server.

Writers and supervisors see each article as it will look in WeChat on a phone, light and dark, with
the `check` findings beside it, while they write: saving a file updates every open page. What the
phone frame shows is `render_article(...)`'s output (the annotated copy, for pointing at findings),
and the copy button and the download give exactly `render_article(...).html`, the bytes `build` and
`publish` use.

- `site`: the repository's articles, calendar, ledger and sandbox, with the render cache;
- `live`: the file watcher and the server-sent events;
- `app`: the Starlette routes, templates and uvicorn;
- `files`: which files may be served.
"""

from __future__ import annotations

from publisher.preview.app import RunningPreview, create_app, serve, start_server

__all__ = ["RunningPreview", "create_app", "serve", "start_server"]
