"""The README's results table: one claim per chapter, read from the rendered benchmark sections.

Why read the rendered sections: the numbers and their *holds* / *within noise* / *reversed* labels
are then exactly those of RESULTS.md and the site's chapter pages, made by the same code; nothing
in the README's table is typed by hand. ``python -m benchmarks render`` rewrites the table between
the README's ``<!-- results-table -->`` markers, and a test fails when the two differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- results-table -->", "<!-- /results-table -->"


@dataclass(frozen=True)
class Headline:
    """One row: where the claim is read (benchmark, optional ``### subsection``, row label) and what it is."""

    chapter: str
    page: str
    method: str
    data: str
    benchmark: str
    claim: str
    subsection: str | None = None
    qualifier: str | None = None  # another cell the row must hold (bilevel's noise level)


HEADLINES = (
    Headline("3", "ch3", "damage & repair", "upright_objects", "damage_repair", "Baseline (θ = 0.5) > Random init"),
    Headline(
        "4",
        "ch4",
        "rotation + warp",
        "upright_objects",
        "rot_warp_probe",
        "rot + warp > random init, best layer of each",
        subsection="upright_objects",
    ),
    Headline(
        "4",
        "ch4",
        "rotation + warp",
        "Fashion-MNIST",
        "rot_warp_probe",
        "rot + warp > random init, best layer of each",
        subsection="fashion_mnist",
    ),
    Headline("4", "ch4", "LCI", "upright_objects", "lci_tables", "LCI > Random"),
    Headline(
        "4",
        "ch4",
        "rot + warp + LCI (F warmed up)",
        "upright_objects",
        "lci_tables",
        "Rot + Warp + LCI, F warmed up > Rot",
    ),
    Headline(
        "5", "ch5", "temporal transforms", "procedural videos", "temporal_tables", "All four (speed loss) > Random init"
    ),
    Headline(
        "6",
        "ch6",
        "multi-view sync + flip",
        "procedural studio",
        "multiview_tables",
        "(d) SSL without background has lower MPJPE than (b) Random without background",
    ),
    Headline(
        "7",
        "ch7",
        "distribution filtering",
        "upright_objects",
        "dfgan",
        "(g) DFGAN (λ = 1) has lower FID than the standard GAN",
        subsection="Table 7.1 on upright_objects",
    ),
    Headline(
        "8",
        "ch8",
        "bilevel, 80 % noisy labels",
        "Fashion-MNIST",
        "bilevel_noise",
        "bilevel > SGD (b), clean test acc",
        qualifier="80%",
    ),
)


def _rows(markdown: str, subsection: str | None) -> list[tuple[list[str], list[str]]]:
    """(header cells, row cells) of every table row in ``markdown`` (within ``### subsection``)."""
    if subsection is not None:
        parts = re.split(r"^### ", markdown, flags=re.M)
        markdown = next((p for p in parts if p.startswith(subsection)), "")
    found, header = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            found.append((header, cells))
    return found


def read(headline: Headline, section: str | None) -> tuple[str, str]:
    """(measure, value with its label) of ``headline`` in its benchmark's rendered section."""
    if section is None:
        return "–", "not run yet"
    for header, cells in _rows(section, headline.subsection):
        if headline.claim in cells and (headline.qualifier is None or headline.qualifier in cells):
            at = cells.index(headline.claim) + 1
            if at < len(cells):
                return header[at] if at < len(header) else "", cells[at]
    return "–", "not run yet"


def headline_table(render_section) -> str:
    """The README's table, from ``render_section(name, plot=False)`` (``benchmarks.__main__``)."""
    sections: dict[str, str | None] = {}
    lines = [
        "| ch. | method | data | claim (paired over seeds) | measure | result |",
        "|---|---|---|---|---|---|",
    ]
    for h in HEADLINES:
        if h.benchmark not in sections:
            sections[h.benchmark] = render_section(h.benchmark, plot=False)
        measure, value = read(h, sections[h.benchmark])
        claim = f"{h.claim} ({h.qualifier} noise)" if h.qualifier else h.claim
        link = f"[{h.chapter}](docs/chapters/{h.page}.md)"  # the chapter's page of the site
        lines.append(f"| {link} | {h.method} | {h.data} | {claim} | {measure} | {value} |")
    return "\n".join(lines)


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between its results-table markers replaced by ``table``."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[:start] + "\n" + table + "\n" + readme[end:]
