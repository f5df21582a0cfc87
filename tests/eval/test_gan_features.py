"""FID / IS feature extractors: the offline Fashion-MNIST classifier and Inception-v3 from a local file."""

import pytest
import torch

from transformrec.data.fashion_mnist import FashionMNIST
from transformrec.eval.gan_features import fashion_mnist_extractor, inception_extractor, train_fashion_mnist_classifier


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


def test_inception_reads_local_weights_and_returns_2048_features_and_1000_logits(tmp_path):
    from torchvision.models import inception_v3

    path = tmp_path / "inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), path)
    features, logits = inception_extractor(path)(torch.rand(2, 1, 32, 32) * 2 - 1)
    assert features.shape == (2, 2048) and logits.shape == (2, 1000)


def test_inception_without_local_weights_points_to_the_offline_extractor(tmp_path):
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST"):
        inception_extractor(tmp_path / "missing.pth")
