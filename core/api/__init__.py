"""The structure's REST API, served under /api/ on the structure's host."""
