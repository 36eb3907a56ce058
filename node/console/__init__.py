"""The node's web console: search, releases, approvals, audit and dashboard in a browser.

Served by each node for its own agency's people, so plaintext queries and
released records stay at the agency; the console calls the hub the way the
node's gateway does (in-process, with the node's own certificate and the
signed-in person's token). See ``docs/console.md``.
"""
