"""FID / IS feature extractors: the offline classifier (the FID Inception network: test_fid_inception.py)."""

import torch

from transformrec.data.fashion_mnist import FashionMNIST
from transformrec.eval.gan_features import fashion_mnist_extractor, train_fashion_mnist_classifier


def test_offline_classifier_recognises_fashion_mnist_well_above_chance():
    model = train_fashion_mnist_classifier(steps=80, batch=64, limit=2000)
    test = FashionMNIST(split="test", image_size=32)
    images, labels = test.stacked(500) * 2 - 1, test.labels[:500]
    with torch.no_grad():
        features, logits = model(images)
    assert features.shape == (500, 128)
    assert (logits.argmax(1) == labels).float().mean().item() > 0.6  # chance is 0.1


def test_offline_extractor_is_cached_and_reloaded_with_the_same_outputs(tmp_path, monkeypatch):
    import transformrec.eval.gan_features as module

    monkeypatch.setattr(
        module, "train_fashion_mnist_classifier", lambda steps, size: module.FashionMNISTClassifier(size)
    )
    first = fashion_mnist_extractor(tmp_path / "fmnist.pt")
    monkeypatch.setattr(module, "train_fashion_mnist_classifier", None)  # a second training would fail
    second = fashion_mnist_extractor(tmp_path / "fmnist.pt")
    images = torch.rand(3, 1, 32, 32)
    assert all(torch.equal(a, b) for a, b in zip(first(images), second(images), strict=True))
