"""Benchmarks: each module measures one thing side by side and renders its table for RESULTS.md."""
