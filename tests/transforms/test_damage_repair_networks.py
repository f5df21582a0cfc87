"""Encoder receptive fields, decoder shapes and the repair blocks' residual and gating identities (ch. 3)."""

import pytest
import torch

from transformrec.transforms.damage_repair_networks import Decoder, Encoder, RepairBlock, RepairNetwork


def _receptive_field(encoder: Encoder, size: int, entry: tuple[int, int]) -> tuple[int, int]:
    """Height and width of the input region whose pixels change one feature entry (via gradients)."""
    encoder.eval()  # BN with running statistics: samples and positions do not interact through it
    image = torch.randn(1, 1, size, size, requires_grad=True)
    encoder(image)[0, :, entry[0], entry[1]].sum().backward()
    rows, cols = (image.grad[0, 0] != 0).nonzero(as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_encoder_entries_see_18x18_patches_overlapping_by_2_pixels():
    torch.manual_seed(0)
    encoder = Encoder(channels=1, width=4)
    assert _receptive_field(encoder, 64, (1, 2)) == (18, 18)
    # neighbouring entries: stride 16, so 18-pixel fields overlap by 2 pixels (fig. 3.4)
    image = torch.randn(1, 1, 64, 64, requires_grad=True)
    encoder(image)[0, :, 1, 1].sum().backward()
    first = image.grad[0, 0].abs().sum(0).nonzero().flatten()
    image.grad = None
    encoder(image)[0, :, 1, 2].sum().backward()
    second = image.grad[0, 0].abs().sum(0).nonzero().flatten()
    assert len(set(first.tolist()) & set(second.tolist())) == 2


def test_3x3_encoder_ablation_has_33x33_receptive_fields():
    torch.manual_seed(0)
    assert _receptive_field(Encoder(channels=1, width=4, kernel=3), 96, (2, 2)) == (33, 33)


@pytest.mark.parametrize("kernel", [2, 3])
def test_feature_grid_is_the_image_over_16_with_16_times_width_channels(kernel):
    encoder = Encoder(channels=3, width=8, kernel=kernel)
    assert encoder(torch.randn(2, 3, 64, 96)).shape == (2, 128, 4, 6)


def test_encoder_rejects_sides_not_divisible_by_16():
    with pytest.raises(ValueError, match="divisible by 16"):
        Encoder(channels=1, width=4)(torch.randn(1, 1, 28, 28))


def test_decoder_maps_the_grid_back_to_the_image_and_has_the_thesis_widths():
    decoder = Decoder(channels=3, width=32)
    assert decoder.stage_channels == (512, 256, 128, 64, 32)
    assert decoder(torch.randn(2, 512, 2, 3)).shape == (2, 3, 32, 48)


def _trained_block(channels=6, gating=True):
    torch.manual_seed(0)
    block = RepairBlock(channels, gating)
    torch.nn.init.normal_(block.bn2.weight)  # leave the zero-initialised (identity) start
    return block.eval()


def test_gated_repair_block_is_x_plus_drop_times_residual_and_keeps_kept_entries():
    block = _trained_block()
    x = torch.randn(2, 6, 4, 4)
    drop = (torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    out = block(x, drop)
    torch.testing.assert_close(out, x + drop * block.residual(x, drop))
    kept = (drop == 0).expand_as(x)
    assert torch.equal(out[kept], x[kept]) and not torch.equal(out[~kept], x[~kept])


def test_ungated_repair_block_changes_kept_entries_too():
    block = _trained_block(gating=False)
    x, drop = torch.randn(2, 6, 4, 4), torch.zeros(2, 1, 4, 4)
    out = block(x, drop)
    torch.testing.assert_close(out, x + block.residual(x, drop))
    assert not torch.allclose(out, x)


def test_repair_block_sees_the_drop_mask_as_an_extra_input_channel():
    block = _trained_block()
    assert block.conv1.in_channels == 7
    x = torch.randn(1, 6, 4, 4)
    assert not torch.allclose(block.residual(x, torch.zeros(1, 1, 4, 4)), block.residual(x, torch.ones(1, 1, 4, 4)))


def test_untrained_repair_blocks_are_the_identity():
    block = RepairBlock(6).train()
    x = torch.randn(2, 6, 4, 4)
    assert torch.equal(block(x, torch.ones(2, 1, 4, 4)), x)


def test_distributed_repair_sits_at_every_decoder_resolution_and_local_repair_before_d1():
    decoder = Decoder(channels=1, width=4)
    distributed = RepairNetwork(decoder, "distributed")
    local = RepairNetwork(decoder, "local")
    assert [b.conv2.out_channels for b in distributed.blocks] == [64, 32, 16, 8, 4]
    assert [b.conv2.out_channels for b in local.blocks] == [64] * 5
    for repair in (distributed, local):
        for block in repair.blocks:
            torch.nn.init.normal_(block.bn2.weight)
    decoder.eval()
    features = torch.randn(2, 64, 2, 2)
    keep = torch.ones(2, 1, 2, 2)
    plain = decoder(features)
    for repair in (distributed, local):  # nothing dropped: gated repairs cannot change anything
        assert torch.equal(decoder(features, repair.eval(), keep), plain)
    keep[:, :, 0, 0] = 0
    assert not torch.allclose(decoder(features, distributed, keep), plain)
    assert not torch.allclose(decoder(features, distributed, keep), decoder(features, local, keep))


def test_ungated_repair_changes_the_decoding_even_with_nothing_dropped():
    decoder = Decoder(channels=1, width=4).eval()
    repair = RepairNetwork(decoder, "distributed", gating=False).eval()
    for block in repair.blocks:
        torch.nn.init.normal_(block.bn2.weight)
    features = torch.randn(2, 64, 2, 2)
    assert not torch.allclose(decoder(features, repair, torch.ones(2, 1, 2, 2)), decoder(features))
