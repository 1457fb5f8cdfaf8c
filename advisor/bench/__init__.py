"""Benchmarks: ingest throughput, retrieval and answer latency at scale, cold start, memory, concurrency."""
