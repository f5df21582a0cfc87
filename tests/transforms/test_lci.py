"""Limited Context Inpainting (sec. 4.2.1, 4.2.4): geometry, losses, gradients, ablation switches, decoys."""

import copy

import pytest
import torch
from classifier_stub import DictClassifier

from transformrec.transforms import Identity, LimitedContextInpainting, Rotation, TransformSet


def _lci(**kwargs):
    torch.manual_seed(0)
    options = dict(channels=1, width=4, patch_size=0.5, border=2)
    options.update(kwargs)
    return LimitedContextInpainting(**options)


def _images(n=8, size=16, seed=1):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def _changed_box(original, transformed):
    """Height and width of the bounding box of the pixels that differ, per image."""
    boxes = []
    for before, after in zip(original, transformed, strict=True):
        rows, cols = (before != after).any(0).nonzero(as_tuple=True)
        boxes.append((int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)))
    return boxes


def test_output_keeps_shape_and_changes_pixels_only_inside_one_patch():
    images = _images()
    lci = _lci(patch_size=0.5)
    out, extra = lci.apply(images, torch.zeros(8, dtype=torch.long), torch.Generator().manual_seed(0))
    assert out.shape == images.shape and extra == {}
    for height, width in _changed_box(images, out):
        assert height <= 8 and width <= 8  # a 0.5 × 16 = 8-pixel patch


def test_patch_size_switch_sets_the_size_of_the_inpainted_region():
    images = _images()
    out, _ = _lci(patch_size=12).apply(images, torch.zeros(8, dtype=torch.long), torch.Generator().manual_seed(0))
    boxes = _changed_box(images, out)
    assert all(h <= 12 and w <= 12 for h, w in boxes)
    assert max(h for h, _ in boxes) > 8  # bigger than the 0.5 default would allow


def test_inpainter_and_discriminator_accept_any_patch_side():
    lci = _lci()
    for side in (8, 13, 24):
        patches = torch.randn(2, 1, side, side)
        assert lci.inpainter(patches).shape == patches.shape
        assert lci.discriminator(patches).shape[:2] == (1, 1)  # the two patches judged as one pair
        assert _lci(discriminator_pack=1).discriminator(patches).shape[:2] == (2, 1)


def test_loss_terms_follow_the_switches_of_table_4_1():
    images, classifier = _images(), DictClassifier(5)
    TransformSet([Identity(), Rotation(), lci := _lci()])
    assert set(lci.losses(images, classifier)) == {
        "discriminator",
        "adversarial",
        "border",
        "ssl",
        "autoencoding",
        "inpainter",
    }
    no_fool = _lci(fool_classifier=False)
    assert "ssl" not in no_fool.losses(images, classifier)
    no_ae = _lci(patch_autoencoding=False)
    assert "autoencoding" not in no_ae.losses(images, classifier) and no_ae.decoy_for == ()


def test_inpainter_loss_is_the_weighted_sum_of_sec_4_2_4():
    lci = _lci(lambda_border=50.0, lambda_ae=50.0)
    TransformSet([Identity(), Rotation(), lci])
    terms = lci.losses(_images(), DictClassifier(5))
    expected = terms["adversarial"] + 50 * terms["border"] - terms["ssl"] + 50 * terms["autoencoding"]
    assert torch.isclose(terms["inpainter"], expected)


def test_classifier_gradient_reaches_the_inpainter_with_a_minus_sign():
    """∂L_inp/∂F with −L_SSL minus ∂L_inp/∂F without it equals −∂L_SSL/∂F on the same random draws.

    In float64: the difference of two large gradients cancels, and float32 rounding would depend
    on the number of threads.
    """
    images, classifier = _images().double(), DictClassifier(5).double()
    with_c = _lci().double()
    TransformSet([Identity(), Rotation(), with_c])
    without_c = copy.deepcopy(with_c)
    without_c.fool_classifier = False
    params = list(with_c.inpainter.parameters())
    terms = with_c.losses(images, classifier)
    grad_total = torch.autograd.grad(terms["inpainter"], params, retain_graph=True)
    grad_ssl = torch.autograd.grad(terms["ssl"], params)
    grad_without = torch.autograd.grad(
        without_c.losses(images, classifier)["inpainter"], list(without_c.inpainter.parameters())
    )
    assert any(g.abs().sum() > 0 for g in grad_ssl)
    for total, ssl, without in zip(grad_total, grad_ssl, grad_without, strict=True):
        torch.testing.assert_close(total - without, -ssl, rtol=1e-6, atol=1e-9)


def test_classifier_loss_uses_the_label_the_transform_set_gave_lci():
    lci = _lci()
    TransformSet([Identity(), Rotation(), lci])
    assert lci.class_label == {"lci": 4} and lci.head == "transform"


def test_update_steps_inpainter_and_discriminator_but_leaves_the_classifier_alone():
    images, classifier = _images(), DictClassifier(5)
    lci = _lci()
    TransformSet([Identity(), Rotation(), lci])
    classifier_before = copy.deepcopy(classifier.state_dict())
    inpainter_before = copy.deepcopy(lci.inpainter.state_dict())
    discriminator_before = [p.detach().clone() for p in lci.discriminator.parameters()]
    metrics = lci.update(images, classifier)
    assert {"lci/ssl", "lci/discriminator", "lci/inpainter"} <= set(metrics)
    for name, value in classifier.state_dict().items():  # BN running stats included
        assert torch.equal(value, classifier_before[name]), name
    assert all(p.grad is None for p in classifier.parameters())
    assert any(not torch.equal(v, lci.inpainter.state_dict()[k]) for k, v in inpainter_before.items())
    assert any(not torch.equal(a, b) for a, b in zip(discriminator_before, lci.discriminator.parameters(), strict=True))


def test_frozen_inpainter_is_trained_only_in_its_pretraining_phase():
    lci = _lci(frozen=True, pretrain_steps=3)
    TransformSet([Identity(), lci])
    start = copy.deepcopy(lci.inpainter.state_dict())
    seen = []

    def batches():
        while True:
            seen.append(1)
            yield _images()

    lci.pretrain(batches())
    assert len(seen) == 3
    trained = copy.deepcopy(lci.inpainter.state_dict())
    assert any(not torch.equal(start[k], trained[k]) for k in start)
    assert lci.update(_images(), DictClassifier(2)) == {}
    assert all(torch.equal(trained[k], v) for k, v in lci.inpainter.state_dict().items())
    with pytest.raises(ValueError, match="pretrain_steps"):
        _lci(frozen=True, pretrain_steps=0)


def test_frozen_inpainter_pretraining_stopped_midway_continues_where_it_stopped():
    batches = [_images(seed=seed) for seed in range(5)]
    whole = _lci(frozen=True, pretrain_steps=5)
    TransformSet([Identity(), whole])
    whole.pretrain(iter(batches))
    parts = _lci(frozen=True, pretrain_steps=5)
    TransformSet([Identity(), parts])

    class StopRequestedError(Exception):
        pass

    def stop_after_two(metrics: dict) -> None:
        if parts.pretrained_steps == 2:
            raise StopRequestedError

    with pytest.raises(StopRequestedError):
        parts.pretrain(iter(batches), stop_after_two)
    assert parts.pretraining_remaining() == 3
    assert all(p.requires_grad for p in parts.inpainter.parameters())  # not frozen before the phase ends
    parts.pretrain(iter(batches[2:]))
    assert parts.pretraining_remaining() == 0
    assert all(not p.requires_grad for p in parts.inpainter.parameters())
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, parts.state_dict()[name]), name


def test_half_of_identity_and_rotation_inputs_become_patch_autoencoded_decoys():
    images = _images(n=8)
    transform_set = TransformSet([Identity(), Rotation(angles=[180]), _lci()], mode="all")
    out, targets = transform_set(images, torch.Generator().manual_seed(0))
    identity, rotated = out[:8], out[8:16]
    unchanged = [torch.equal(a, b) for a, b in zip(identity, images, strict=True)]
    assert unchanged.count(False) == 4  # half of the untransformed images
    unrotated = torch.rot90(rotated, 2, dims=(-2, -1))
    assert [torch.equal(a, b) for a, b in zip(unrotated, images, strict=True)].count(False) == 4
    changed = [i for i, same in enumerate(unchanged) if not same]
    for height, width in _changed_box(images[changed], identity[changed]):
        assert height <= 8 and width <= 8
    assert targets["transform"].tolist() == [0] * 8 + [1] * 8 + [2] * 8


def test_without_patch_autoencoding_there_are_no_decoys():
    images = _images(n=8)
    out, _ = TransformSet([Identity(), _lci(patch_autoencoding=False)])(images, torch.Generator().manual_seed(0))
    assert torch.equal(out[:8], images)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="patch_size"):
        _lci(patch_size=0)
    with pytest.raises(ValueError, match="border"):
        _lci(border=-1)


def _least_squares(real_scores, fake_scores):
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def _standardize(x):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / (x.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()


def test_discriminator_objective_and_distribution_filter_follow_eq_7_8():
    """D's loss under LSGAN with fixed Gaussian filtering: the clean term plus the filtered term, whose
    noisy groups are standardised by their own statistics (D has no BN, sec. 7.2.3); ε from LCI's generator."""
    original, inpainted = _images(seed=2)[:, :, :8, :8], _images(seed=3)[:, :, :8, :8]
    plain = _lci(objective="least_squares")
    plain.discriminator.eval()  # no spectral-norm power iteration between the two evaluations
    d = plain.discriminator
    loss, penalty = plain.discriminator_losses(inpainted, original)
    torch.testing.assert_close(loss, _least_squares(d(original), d(inpainted)))
    assert penalty is None

    filtered = _lci(objective="least_squares", distribution_filter={"kind": "gaussian", "sigma": 0.3})
    filtered.discriminator.eval()
    d = filtered.discriminator
    state = filtered.generator.get_state()
    loss, penalty = filtered.discriminator_losses(inpainted, original)
    noise = 0.3 * torch.randn(original.shape, generator=torch.Generator().set_state(state))
    expected = _least_squares(d(original), d(inpainted)) + _least_squares(
        d(_standardize(original + noise)), d(_standardize(inpainted + noise))
    )
    torch.testing.assert_close(loss, expected)
    assert penalty is None  # a fixed σ has nothing to learn


@pytest.mark.parametrize("noise", [{"kind": "learned_sigma", "sigma": 0.5, "penalty": 2.0}, {"kind": "network"}])
def test_learned_noise_models_are_trained_against_the_patch_discriminator(noise):
    images, classifier = _images(), DictClassifier(5)
    lci = _lci(distribution_filter=noise)
    TransformSet([Identity(), Rotation(), lci])
    assert "noise" in lci.optimizers() and "noise" in lci.checkpoint_state()["optimizers"]
    before = [p.detach().clone() for p in lci.filter.parameters()]
    metrics = lci.update(images, classifier)
    assert any(not torch.equal(a, b) for a, b in zip(before, lci.filter.parameters(), strict=True))
    if noise["kind"] == "learned_sigma":
        assert metrics["lci/noise_penalty"] == pytest.approx(2.0 * 0.5**2, rel=1e-6)  # λσ² before the step
    else:
        patches = torch.zeros(3, 1, 8, 8)
        assert lci.filter.sample_noise(patches).shape == patches.shape  # N(w) resized to the patch side


def test_bad_distribution_filter_is_named():
    with pytest.raises(ValueError, match=r"lci.distribution_filter: mode"):
        _lci(distribution_filter={"kind": "gaussian", "mode": "sometimes"})


def test_the_authors_options_scale_the_centre_noise_and_the_discriminator_learning_rate():
    # The authors' code: z = 0.1·N(0, 1) in the hidden centre, D at 4× the inpainter's learning rate.
    lci = _lci(noise_scale=0.1, discriminator_lr_factor=4.0, lr=1e-4)
    _, _, noise = lci._random_inputs(torch.zeros(256, 1, 16, 16), torch.Generator().manual_seed(0))
    assert abs(float(noise.std()) - 0.1) < 0.005 and abs(float(noise.mean())) < 0.005  # 16k draws
    assert lci.discriminator_optimizer.param_groups[0]["lr"] == pytest.approx(4e-4)
    assert lci.inpainter_optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="discriminator_lr_factor"):
        _lci(discriminator_lr_factor=0)


@pytest.mark.slow
def test_a_briefly_trained_inpainter_fills_the_centre_instead_of_passing_its_noise_through():
    """F trained 250 steps on upright_objects (no C): its centre ignores the input noise and has the real
    patches' high-frequency energy. The earlier U-Net, whose full-resolution skip reached the output,
    copied the noise (correlation 0.2, 6× the real energy) and fails both."""
    from transformrec.data.upright_objects import UprightObjects
    from transformrec.functional.inpainting_quality import ENERGY_RATIO_RANGE, NOISE_CORRELATION_GATE

    train = UprightObjects(num_samples=1024, image_size=32, seed=0)
    test = UprightObjects(num_samples=128, image_size=32, seed=0, split="test")
    held_out = torch.stack([test[i][0] for i in range(128)])
    torch.manual_seed(0)
    lci = LimitedContextInpainting(channels=3, width=16, seed=0)
    draw = torch.Generator().manual_seed(0)
    before = lci.measure_quality(held_out, torch.Generator().manual_seed(1))
    for step in range(250):
        indices = torch.randint(0, len(train), (32,), generator=draw).tolist()
        lci.pretrain_step(torch.stack([train[i][0] for i in indices]), step)
    quality = lci.measure_quality(held_out, torch.Generator().manual_seed(1))
    assert quality["noise_correlation"] < NOISE_CORRELATION_GATE
    assert ENERGY_RATIO_RANGE[0] <= quality["energy_ratio"] <= ENERGY_RATIO_RANGE[1]
    assert before["energy_ratio"] > ENERGY_RATIO_RANGE[1]  # untrained, F paints a high-frequency pattern


def test_a_joint_batch_runs_the_inpainter_once_so_its_batch_norm_sees_noisy_and_real_patches_together():
    images, classifier = _images(), DictClassifier(5)
    separate, joint = _lci(), _lci(joint_batch=True)
    for lci in (separate, joint):
        TransformSet([Identity(), Rotation(), lci])
    separate_eval, joint_eval = copy.deepcopy(separate).eval(), copy.deepcopy(joint).eval()
    batches = {"separate": [], "joint": []}

    def count(name):
        return lambda module, inputs, output: batches[name].append(len(inputs[0]))

    separate.inpainter.register_forward_hook(count("separate"))
    joint.inpainter.register_forward_hook(count("joint"))
    separate_terms, joint_terms = separate.losses(images, classifier), joint.losses(images, classifier)
    assert batches == {"separate": [8, 8], "joint": [16]}  # noisy patches, then real ones; or both at once
    # Same weights, same draws: the autoencoding term differs only through F's batch statistics ...
    assert not torch.isclose(separate_terms["autoencoding"], joint_terms["autoencoding"])
    # ... so with stored statistics (eval mode) the two are the same computation.
    separate_ae = separate_eval.losses(images, classifier)["autoencoding"]
    assert torch.isclose(separate_ae, joint_eval.losses(images, classifier)["autoencoding"])


def test_a_joint_batch_needs_the_autoencoding_term_it_shares_a_forward_with():
    assert _lci(joint_batch=True, patch_autoencoding=False).joint_batch is False
