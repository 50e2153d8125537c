"""Analytics, one module a stage: pull.py (datacube → database), join.py (numbers → our articles, through
the ledger), store.py (the SQLite schema), export.py (database ↔ JSON lines on the ledger branch),
report.py (HTML and Markdown reports); run.py ties them to a project, an account and a ledger."""
