"""The 3D pose transfer of sec. 6.2.4: frozen stages stay fixed, the regressor learns, metrics come back."""

import torch

from transformrec.backbones import build_backbone
from transformrec.data.multiview_folder import MultiViewPoses
from transformrec.eval import get_evaluation
from transformrec.eval.pose3d import PoseRegressor


def test_pose3d_transfer_trains_the_unfrozen_layers_and_reports_the_three_metrics(multiview_root):
    train = MultiViewPoses(multiview_root, subjects=["S1"], stride=2)
    test = MultiViewPoses(multiview_root, split="test", stride=6)
    torch.manual_seed(0)
    backbone = build_backbone("siamese", trunk="resnet18")
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    result = get_evaluation("pose3d")(backbone, train, test, epochs=3, lr=1e-3, return_model=True)
    assert set(result["test"]) == {"mpjpe", "nmpjpe", "pmpjpe"}
    assert result["epoch_loss"][-1] < result["epoch_loss"][0]
    assert all(torch.equal(v, backbone.state_dict()[k]) for k, v in before.items())  # caller's copy untouched
    model: PoseRegressor = result["model"]
    trunk = model.trunk.state_dict()
    for name in ("conv1.weight", "bn1.running_mean", "layer3.1.conv2.weight", "layer3.1.bn2.running_var"):
        assert torch.equal(trunk[name], before[f"trunk.{name}"]), name  # first three stages frozen
    assert not torch.equal(trunk["layer4.1.conv2.weight"], before["trunk.layer4.1.conv2.weight"])
    poses = train.poses()
    assert torch.allclose(model.mean, poses[:, 1:].mean(0), atol=1e-3)  # per-joint normalisation
    assert result["test"]["pmpjpe"] <= result["test"]["mpjpe"] + 1e-6
