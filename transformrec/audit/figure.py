"""The audit as a labelled picture: what each probe recognises, and which classes it confuses."""

from __future__ import annotations

from pathlib import Path

from transformrec.audit.report import AuditReport


def plot_audit(report: AuditReport, path: str | Path) -> Path:
    """Write a two-panel PNG: per-class held-out accuracy of the patch and whole-image probes (with
    the shortcut threshold and chance), and the whole-image probe's pairwise separability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    classes = report.classes
    x = np.arange(len(classes))
    fig, (bars, grid) = plt.subplots(1, 2, figsize=(5.5 + 0.9 * len(classes), 4.2))
    bars.bar(
        x - 0.2, report.local_recall, 0.4, label=f"{report.patch_size}×{report.patch_size} patches", color="tab:red"
    )
    bars.bar(x + 0.2, report.global_recall, 0.4, label="whole images", color="tab:blue")
    bars.axhline(report.local_threshold, color="black", linestyle="--", linewidth=1)
    bars.text(
        len(classes) - 0.5,
        report.local_threshold,
        f"shortcut risk ≥ {report.local_threshold}",
        ha="right",
        va="bottom",
        fontsize=8,
    )
    bars.axhline(1 / len(classes), color="grey", linestyle=":", linewidth=1, label="chance")
    for index, name in enumerate(classes):
        if name in report.locally_recognisable:
            bars.text(index - 0.2, report.local_recall[index] + 0.02, "!", ha="center", color="tab:red", weight="bold")
    bars.set_xticks(x, classes, rotation=30, ha="right")
    bars.set_ylim(0, 1.3)
    bars.set_ylabel("held-out accuracy")
    bars.set_title("which class each probe recognises")
    bars.legend(fontsize=8, loc="upper left", ncol=3)

    matrix = np.array([[np.nan if v is None else v for v in row] for row in report.global_pairwise], dtype=float)
    image = grid.imshow(matrix, vmin=0.5, vmax=1.0, cmap="viridis")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if not np.isnan(matrix[i, j]):
                ambiguous = matrix[i, j] < report.confusable_threshold
                grid.text(
                    j,
                    i,
                    f"{matrix[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="red" if ambiguous else "white",
                    weight="bold" if ambiguous else "normal",
                )
    grid.set_xticks(x, classes, rotation=30, ha="right")
    grid.set_yticks(x, classes)
    grid.set_title(f"whole-image separability (red: < {report.confusable_threshold})")
    fig.colorbar(image, ax=grid, label="pairwise accuracy (0.5 = indistinguishable)")
    fig.suptitle(f"Transform audit of head '{report.head}': {report.num_images} images of {report.image_size}")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
