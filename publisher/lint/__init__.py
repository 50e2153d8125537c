"""Check stage: limits, WeChat structure rules and (later) compliance rules → Findings."""
