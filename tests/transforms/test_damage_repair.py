"""Damage & repair (ch. 3): real/damaged classes, mask targets, −L_class for R, history, ablation switches."""

import copy

import pytest
import torch
import torch.nn.functional as F
from classifier_stub import DictClassifier
from torch import nn

from transformrec.functional.feature_damage import damage_features, sample_keep_mask
from transformrec.transforms import IGNORE_INDEX, DamageRepair, Identity, Rotation, TransformSet, build_transform
from transformrec.transforms.corrupt_history import CorruptHistory


def _dr(**kwargs):
    torch.manual_seed(0)
    options = dict(channels=1, width=4, drop_rate=0.5, pretrain_steps=0)
    options.update(kwargs)
    transform = DamageRepair(**options)
    for block in transform.repair.blocks:  # leave the identity start, as after some training
        nn.init.normal_(block.bn2.weight, std=0.5)
    return transform


def _images(n=8, size=32, seed=1):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def _variants(n_real, n_damaged):
    return torch.tensor([0] * n_real + [1] * n_damaged)


def test_classes_heads_and_registration():
    transform = build_transform("damage_repair", channels=1, width=4, pretrain_steps=0)
    assert isinstance(transform, DamageRepair) and transform.drop_rate == 0.7
    transform_set = TransformSet([transform])
    assert transform_set.heads == {"transform": ["real", "damaged"]}
    assert transform_set.dense_heads == {"mask": "conv5"}
    assert transform_set.head_weights == {"mask": 0.1}  # the authors' weight of the mask loss
    assert transform.class_label == {"real": 0, "damaged": 1}


def test_real_class_is_the_autoencoded_image_and_raw_input_in_ablation_a():
    images = _images()
    transform = _dr()
    out, extra = transform.apply(images, _variants(8, 0), torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = transform.decoder(transform.encoder(images))
    torch.testing.assert_close(out, expected)
    assert torch.equal(extra["mask"], torch.ones(8, 2, 2, dtype=torch.long))  # nothing of a real image was dropped
    _, only_damaged = _dr(mask_on_real=False).apply(images, _variants(8, 0), torch.Generator().manual_seed(0))
    assert torch.equal(only_damaged["mask"], torch.full((8, 2, 2), IGNORE_INDEX))
    raw = _dr(autoencoded_real=False)
    assert torch.equal(raw.apply(images, _variants(8, 0))[0], images) and raw.decoy_for == ()


def test_damaged_class_is_the_repaired_decoding_of_the_masked_feature_with_omega_as_mask_target():
    images = _images()
    transform = _dr(history=False)
    out, extra = transform.apply(images, _variants(3, 5), torch.Generator().manual_seed(4))
    keep = sample_keep_mask(5, 2, 2, 0.5, torch.Generator().manual_seed(4))
    with torch.no_grad():
        damaged = damage_features(transform.encoder(images[3:]), keep, "average", 3)  # the authors' 3×3 fill
        expected = transform.decoder(damaged, transform.repair, keep)
    torch.testing.assert_close(out[3:], expected)
    assert torch.equal(extra["mask"][3:], keep[:, 0].long())
    assert (extra["mask"][:3] == 1).all()  # real images: every cell kept


def test_damaged_images_differ_from_real_ones_only_where_dropped_features_reach():
    """Dropped entry (0, 0) of a 64 px image changes pixels near the top-left patch, not the far corner."""
    images = _images(2, 64)
    transform = _dr(history=False)
    keep = torch.ones(2, 1, 4, 4)
    keep[:, :, 0, 0] = 0
    with torch.no_grad():
        damaged = transform.corrupt(images, keep)
        real = transform.autoencode(images)
    assert not torch.allclose(damaged[..., :16, :16], real[..., :16, :16])
    torch.testing.assert_close(damaged[..., 40:, 40:], real[..., 40:, 40:])


def test_drop_rate_of_the_applied_masks():
    transform = _dr(drop_rate=0.7, history=False)
    _, extra = transform.apply(_images(64, 64), _variants(0, 64), torch.Generator().manual_seed(0))
    assert abs(float((extra["mask"] == 0).float().mean()) - 0.7) < 0.06


def _repair_terms_with_reference(**options):
    """R's loss terms on a batch, and the keep mask, repaired images and C's logits that replay them."""
    images, classifier = _images(), DictClassifier(2)
    transform = _dr(**options)
    TransformSet([transform])
    generator_state = transform.generator.get_state()
    terms = transform.repair_losses(images, classifier)
    keep = sample_keep_mask(8, 2, 2, 0.5, torch.Generator().set_state(generator_state))
    with torch.no_grad():
        corrupted = transform.corrupt(images, keep)
        logits = copy.deepcopy(classifier)(corrupted)["transform"]
    return terms, images, keep, corrupted, logits


def test_minimax_repair_loss_is_minus_the_classifier_cross_entropy_for_the_damaged_label():
    terms, _, _, _, logits = _repair_terms_with_reference(repair_loss="minimax", lambda_kept=0)
    expected = F.cross_entropy(logits, torch.ones(8, dtype=torch.long))
    torch.testing.assert_close(terms["class"], expected)
    torch.testing.assert_close(terms["repair"], -expected)


def test_default_repair_loss_is_the_real_label_cross_entropy_plus_30_times_the_kept_pixels_error():
    """The authors' code: non-saturating CE(C(x̂), real) + 30 · MSE(x̂, x) over pixels of kept cells."""
    terms, images, keep, corrupted, logits = _repair_terms_with_reference()
    fool = F.cross_entropy(logits, torch.zeros(8, dtype=torch.long))  # label 0: real
    kept_pixels = keep.repeat_interleave(16, 2).repeat_interleave(16, 3).bool().expand_as(images)  # 16 px per cell
    kept = (corrupted - images)[kept_pixels].pow(2).mean()
    torch.testing.assert_close(terms["fool"], fool)
    torch.testing.assert_close(terms["kept"], kept)
    torch.testing.assert_close(terms["repair"], fool + 30 * kept)
    assert "class" not in terms


def test_update_steps_only_r_with_minus_the_classifier_gradient_and_leaves_c_untouched():
    images, classifier = _images(), DictClassifier(2)
    transform = _dr(repair_loss="minimax", lambda_kept=0)
    TransformSet([transform])
    reference = copy.deepcopy(transform)
    c_state = copy.deepcopy(classifier.state_dict())
    encoder_state = copy.deepcopy(transform.encoder.state_dict())
    # the gradient R receives is −∂CE/∂R
    params = list(reference.repair.parameters())
    ce = reference.repair_losses(images, classifier)["class"]
    grads = torch.autograd.grad(ce, params)
    assert any(g.abs().sum() > 0 for g in grads)
    captured = []
    transform.repair_optimizer.step = lambda: captured.extend(p.grad.clone() for p in transform.repair.parameters())
    transform.update(images, classifier)
    for got, grad in zip(captured, grads, strict=True):
        torch.testing.assert_close(got, -grad)
    for name, tensor in classifier.state_dict().items():
        assert torch.equal(tensor, c_state[name]), name  # BN statistics unchanged
    assert all(p.grad is None for p in classifier.parameters())
    assert all(torch.equal(v, encoder_state[k]) for k, v in transform.encoder.state_dict().items())


def test_update_changes_r_but_not_the_autoencoder():
    images, classifier = _images(), DictClassifier(2)
    transform = _dr()
    TransformSet([transform])
    before = copy.deepcopy(transform.state_dict())
    logs = transform.update(images, classifier)
    assert set(logs) == {"damage_repair/fool", "damage_repair/kept", "damage_repair/repair"}
    after = transform.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("repair.") for k in changed)
    assert not any(k.startswith(("encoder.", "decoder.")) for k in changed)


def test_pretraining_lowers_l_auto_then_freezes_the_autoencoder():
    transform = _dr(pretrain_steps=30, lr=3e-3)
    images = _images(16)
    loss_before = float(transform.autoencoder_loss(images))
    transform.pretrain(iter([images] * 30))
    assert len(transform.pretrain_losses) == 30
    assert float(transform.autoencoder_loss(images)) < 0.5 * loss_before
    assert not transform.encoder.training and not transform.decoder.training and transform.repair.training
    assert all(not p.requires_grad for p in [*transform.encoder.parameters(), *transform.decoder.parameters()])
    optimised = {id(p) for group in transform.repair_optimizer.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in transform.repair.parameters()}


def test_saved_autoencoder_is_loaded_instead_of_pretraining(tmp_path):
    trained = _dr(pretrain_steps=3)
    trained.pretrain(iter([_images()] * 3))
    path = trained.save_autoencoder(tmp_path / "ae.pt")
    loaded = _dr(autoencoder=str(path), pretrain_steps=3)
    loaded.pretrain(iter([_images()] * 3))
    assert loaded.pretrain_losses == []
    images = _images()
    torch.testing.assert_close(loaded.autoencode(images), trained.autoencode(images))
    with pytest.raises(ValueError, match="encoder_kernel"):
        _dr(autoencoder=str(path), encoder_kernel=3)


def test_history_replaces_exactly_half_of_the_batch_with_stored_examples():
    history = CorruptHistory(capacity=16)
    old = torch.arange(16.0).view(16, 1, 1, 1).expand(16, 1, 2, 2).clone()
    history.push(old, torch.ones(16, 1, 1, 1))
    fresh = torch.full((8, 1, 2, 2), -1.0)
    mixed, masks = history.mix(fresh, torch.zeros(8, 1, 1, 1), torch.Generator().manual_seed(0))
    from_history = (mixed[:, 0, 0, 0] >= 0).sum()
    assert from_history == 4 and (masks[:, 0, 0, 0] == 1).sum() == 4  # masks travel with their images
    assert ((mixed >= 0) == (masks == 1)).all()
    assert len(history) == 16 and (history.images == -1).sum() == 8 * 4  # the fresh batch was stored


def test_history_fills_up_before_overwriting_and_is_used_by_apply():
    transform = _dr()
    generator = torch.Generator().manual_seed(0)
    transform.apply(_images(8), _variants(0, 8), generator)
    assert len(transform.history) == 8
    no_history = _dr(history=False)
    assert no_history.history is None
    first, _ = transform.apply(_images(8, seed=2), _variants(0, 8), torch.Generator().manual_seed(1))
    reference, _ = no_history.apply(_images(8, seed=2), _variants(0, 8), torch.Generator().manual_seed(1))
    same_rows = [bool(torch.allclose(a, b)) for a, b in zip(first, reference, strict=True)]
    assert sum(same_rows) == 4  # the other half came from the history


def test_ablation_switches_change_what_they_should():
    assert _dr(mask_head=False).dense_heads() == {}
    assert "mask" not in _dr(mask_head=False).apply(_images(), _variants(4, 4))[1]
    assert TransformSet([_dr(mask_head=False)]).dense_heads == {}
    assert _dr(repair="local").repair.layout == "local"
    assert _dr(encoder_kernel=3).encoder.layers[1][0].kernel_size == (3, 3)
    assert all(not b.gating for b in _dr(gating=False).repair.blocks)
    assert all(b.gating for b in _dr().repair.blocks)
    assert _dr(drop_rate=0.1).drop_rate == 0.1
    with pytest.raises(ValueError, match="drop_rate"):
        _dr(drop_rate=1.2)
    with pytest.raises(ValueError, match="layout"):
        _dr(repair="everywhere")


def test_noise_fill_option():
    transform = _dr(fill="noise", history=False)
    out, _ = transform.apply(_images(), _variants(0, 8), torch.Generator().manual_seed(0))
    assert out.shape == (8, 1, 32, 32) and torch.isfinite(out).all()


def test_inputs_of_other_transforms_are_autoencoded_when_combined_with_rotation():
    images = _images(4)
    transform = _dr()
    transform_set = TransformSet([transform, Rotation()])
    assert transform_set.heads["transform"] == ["real", "damaged", "rot90", "rot180", "rot270"]
    out, targets = transform_set(images, torch.Generator().manual_seed(0))
    with torch.no_grad():
        autoencoded = transform.autoencode(images)
    torch.testing.assert_close(out[8:12], torch.rot90(autoencoded, 1, (2, 3)))
    assert targets["mask"].shape == (20, 2, 2)
    assert (targets["mask"][8:] == IGNORE_INDEX).all() and (targets["mask"][4:8] != IGNORE_INDEX).all()


def test_renderings_use_nested_masks_and_show_the_unrepaired_decoding():
    transform = _dr(history=False)
    images = _images(3, 64)
    columns = transform.renderings(images, drop_rates=(0.0, 0.5, 1.0))
    assert list(columns) == ["input", "real", "θ=0.0", "θ=0.5", "θ=1.0", "θ=0.5 no repair"]
    torch.testing.assert_close(columns["θ=0.0"], columns["real"])  # nothing dropped, gated R inactive
    assert not torch.allclose(columns["θ=1.0"], columns["real"])
    assert all(c.shape == images.shape for c in columns.values())


def test_identity_beside_the_real_class_is_refused_by_name():
    """``real`` already is the untransformed class; an identity class would be a second copy of it."""
    with pytest.raises(ValueError, match="DamageRepair cannot share head 'transform' with identity"):
        TransformSet([Identity(), _dr()])
    with pytest.raises(ValueError, match="with identity"):
        TransformSet([_dr(), Identity()])
    TransformSet([_dr(), Rotation()])  # other transforms are welcome
