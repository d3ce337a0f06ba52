"""Percentiles of latency samples."""

from __future__ import annotations


def percentile(ordered: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default) of sorted samples."""
    if not ordered:
        raise ValueError("no samples")
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summarize(samples: list[float]) -> dict:
    """n, p50, p95, p99, mean and max of millisecond samples, rounded to microseconds."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50), 3),
        "p95_ms": round(percentile(ordered, 0.95), 3),
        "p99_ms": round(percentile(ordered, 0.99), 3),
        "mean_ms": round(sum(ordered) / len(ordered), 3),
        "max_ms": round(ordered[-1], 3),
    }
