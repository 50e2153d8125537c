"""Content-as-code publishing for WeChat Official Accounts."""

__version__ = "0.1.0"
