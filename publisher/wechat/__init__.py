"""Talking to WeChat: the Official Account API client and `sandbox`, a local emulator of that API over HTTP."""
