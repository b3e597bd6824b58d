"""Channelstream benchmark harness (issue 9): end-to-end throughput, freshness and replay of the
five services running as separate processes, against a raw single-hop floor and a batch-SQL
alternative measured in the same run. Run with `uv run python -m bench --help`."""
