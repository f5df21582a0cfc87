"""What ``transformrec eval`` prints for a protocol's result, whichever protocol made it."""

from transformrec.experiment import outcome_line


def test_a_pose_transfer_result_prints_its_three_errors_in_millimetres():
    outcome = {"test": {"mpjpe": 85.64, "nmpjpe": 69.91, "pmpjpe": 60.07}}
    assert outcome_line(outcome) == "MPJPE 85.6  NMPJPE 69.9  PMPJPE 60.1"


def test_a_probe_result_prints_its_best_accuracy_and_each_tap():
    outcome = {"best_test_acc": 0.6425, "per_tap": {"conv1": {"test_acc": 0.5}, "conv5": {"test_acc": 0.6425}}}
    assert outcome_line(outcome) == "best test accuracy 0.6425  conv1=0.500  conv5=0.642"


def test_a_knn_result_prints_the_accuracy_at_the_k_it_is_asked_for():
    outcome = {"test_acc": 0.7, "per_tap": {"conv5": {"test_acc": {"10": 0.61, "20": 0.7}}}}
    assert outcome_line(outcome, k=10).endswith("conv5=0.610")
