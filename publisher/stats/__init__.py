"""Analytics: pull WeChat's datacube numbers (pull.py), keep them (store.py, export.py), report on them (report.py)."""
