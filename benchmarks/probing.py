"""Per-layer linear-probe rows over seeds and their paired claims, as the chapter 3 and 4 tables report them.

Why one place: every such table prints each layer's mean ± sd, the best layer, and claims paired
by seed at conv5 and at the best layer; a run is ``{"pretrained": {tap: accuracy}, "seed": …}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from benchmarks.seed_statistics import format_mean_sd, format_ordering, paired_by_seed


def conv5_accuracy(run: dict) -> float:
    """The conv5 probe accuracy (the last tap where a backbone has no conv5)."""
    return run["pretrained"].get("conv5", list(run["pretrained"].values())[-1])


def best_layer_accuracy(run: dict) -> float:
    return max(run["pretrained"].values())


def per_layer_cells(runs: list[dict], taps: Sequence[str]) -> list[str]:
    """``mean ± sd`` of every tap over the runs, then of each run's best layer."""
    cells = [format_mean_sd([r["pretrained"][t] for r in runs]) for t in taps]
    return [*cells, format_mean_sd([best_layer_accuracy(r) for r in runs])]


PROBE_COLUMNS: tuple[tuple[str, Callable[[dict], float]], ...] = (
    ("conv5", conv5_accuracy),
    ("best layer", best_layer_accuracy),
)


def claim_lines(
    rows: dict[str, list[dict]],
    claims: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, Callable[[dict], float]]] = PROBE_COLUMNS,
    title: str = "claim (fixed before the runs)",
) -> list[str]:
    """The markdown table of "better > worse" claims, paired by seed, one column per ``(title, value of a run)``.

    By default at conv5 and at the best layer; a table with a second transfer protocol adds its column.
    ``title`` heads the first column: comparisons read after the runs must not pass for fixed claims.
    """
    header = " | ".join(f"{column} (points)" for column, _ in columns)
    lines = ["", f"| {title} | {header} |", "|---|" + "---|" * len(columns)]
    for better, worse in claims:
        if better in rows and worse in rows:
            cells = [format_ordering(paired_by_seed(rows[better], rows[worse], value)) for _, value in columns]
            lines.append(f"| {better} > {worse} | " + " | ".join(cells) + " |")
    return lines
