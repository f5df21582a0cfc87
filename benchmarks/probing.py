"""Linear probes of every AlexNet conv layer, as the quality tables of chapters 3 and 4 report them."""

from __future__ import annotations

from pathlib import Path

from transformrec import experiment
from transformrec.eval.registry import get_evaluation

TAPS = ("conv1", "conv2", "conv3", "conv4", "conv5")


def probe_conv_layers(config, weights: Path | None, train_set, test_set, scale: dict) -> dict[str, float]:
    """Test accuracy of a linear probe per conv layer (``weights`` None: the random init of ``config``).

    ``scale`` gives ``labels`` (labelled images per class) and ``probe_epochs``; the probe's seed is
    the config's, so every row of a table probes on the same labelled subset.
    """
    backbone = experiment.load_backbone(config, weights, train_set)
    probe = get_evaluation("linear_probe")(
        backbone,
        train_set,
        test_set,
        taps=TAPS,
        labels_per_class=scale["labels"],
        epochs=scale["probe_epochs"],
        seed=config.seed,
    )
    return {tap: probe["per_tap"][tap]["test_acc"] for tap in TAPS}
