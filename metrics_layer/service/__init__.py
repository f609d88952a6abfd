"""The metrics service: the same definitions over HTTP (FastAPI) and MCP, with access policies.

operations.py holds what both front ends do (catalog answers and analyses on a layer); app.py
is the HTTP API, mcp_server.py the MCP tools, tokens.py the bearer tokens, audit.py the audit
log, answers.py the JSON/CSV/Arrow encodings, guard.py the body and stall limits, cache.py the
opt-in result cache. Installed with the `service` extra.
"""
