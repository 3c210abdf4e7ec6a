"""QuantAgent-style agents: deterministic tools (indicators, patterns, trendlines), code analysts,
an LLM Decision agent validated against a JSON Schema, and risk in code. Imports no torch."""
