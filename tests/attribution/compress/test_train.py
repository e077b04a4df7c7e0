"""Distillation, pruning with fine-tuning, and the agreement report (small and exact)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn
from torch.nn.utils import prune

from attribution.compress import (
    AttributionMatchingLoss,
    attribution_agreement,
    cosine_similarity,
    distill,
    pointing_game,
    prune_and_finetune,
    sparsity,
    spearman,
    top_k_iou,
)


def small_cnn(width: int = 8, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2))
    net = nn.Sequential()
    net.add_module("features", features)
    net.add_module("flatten", nn.Flatten())
    net.add_module("classifier", nn.Linear(2 * width * 16, 10))
    return net


@pytest.fixture(scope="module")
def digits():
    from attribution.testing import load_digits_images

    images, labels = load_digits_images()
    return images[:512], labels[:512]


def test_distill_matching_raises_map_agreement_and_keeps_mode(digits_cnn_and_data,
                                                               single_thread):
    teacher, images, labels = digits_cnn_and_data  # trained DigitsCNN, eval mode
    x, y = images[:512], labels[:512]
    crit = AttributionMatchingLoss("features", "features", beta=100.0)
    plain = distill(teacher, small_cnn(4, 1).eval(), (x, y), epochs=4, random_state=0)
    matched = distill(teacher, small_cnn(4, 1), (x, y), attribution=crit, epochs=4,
                      random_state=0)
    assert not plain.training and matched.training  # modes kept
    assert not teacher.training
    held_out = images[1000:1256]
    assert crit.distance(teacher, matched, held_out) < 0.7 * crit.distance(teacher, plain,
                                                                           held_out)


def test_distill_history_and_reproducibility(digits, single_thread):
    x, y = digits
    teacher = small_cnn(4, 0).eval()
    crit = AttributionMatchingLoss("features", "features", beta=10.0)
    a, hist_a = distill(teacher, small_cnn(2, 1), (x[:128], y[:128]), attribution=crit,
                        epochs=2, random_state=3, return_history=True)
    b, hist_b = distill(teacher, small_cnn(2, 1), (x[:128], y[:128]), attribution=crit,
                        epochs=2, random_state=3, return_history=True)
    assert hist_a == hist_b and len(hist_a) == 2 and hist_a[0]["attribution"] > 0
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:64]), batch_size=32)
    _, hist = distill(teacher, small_cnn(2, 1), loader, epochs=1, return_history=True)
    assert hist[0]["attribution"] == 0.0 and hist[0]["kd"] > 0


def test_structured_pruning_zeroes_whole_filters_with_their_biases(digits, single_thread):
    x, y = digits
    net = small_cnn(8, 0).train()
    crit = AttributionMatchingLoss("features", "features", beta=100.0)
    out, history = prune_and_finetune(
        net, (x[:128], y[:128]), amount={"features.0": 0.5, "features.2": 0.75},
        structured=True, rounds=2, attribution=crit, epochs=1, random_state=0,
        return_history=True)
    assert out is net and net.training
    for layer, expected in ((net.features[0], 4), (net.features[2], 12)):
        assert not prune.is_pruned(layer)  # removed: plain tensors again
        dead = (layer.weight.flatten(1) == 0).all(dim=1)
        assert int(dead.sum()) == expected
        assert torch.all(layer.bias[dead] == 0)
        assert torch.all(layer.bias[~dead] != 0)
    assert [h["round"] for h in history] == [1, 2]
    assert history[0]["epochs"][0]["attribution"] > 0


def test_iterative_unstructured_pruning_reaches_the_exact_sparsity(digits, single_thread):
    x, y = digits
    net = small_cnn(4, 0)
    total = sum(m.weight.numel() for m in (net.features[0], net.features[2], net.classifier))
    _, history = prune_and_finetune(net, (x[:64], y[:64]), amount=0.95, rounds=4, epochs=1,
                                    final_epochs=2, remove=False, random_state=0,
                                    return_history=True)
    assert [h["round"] for h in history] == [1, 2, 3, 4, "final"]
    assert len(history[-1]["epochs"]) == 2  # the final fine-tuning keeps the sparsity
    assert history[-1]["sparsity"] == history[-2]["sparsity"]
    levels = [h["sparsity"] for h in history]
    assert levels == sorted(levels) and levels[0] > 0.45
    assert prune.is_pruned(net.features[0])  # remove=False keeps the reparametrisation
    zeros = sum(int((m.weight == 0).sum())
                for m in (net.features[0], net.features[2], net.classifier))
    assert zeros == total - round(0.05 * total)
    assert sparsity(net) == pytest.approx(zeros / total)
    # fine-tuning never revives a pruned weight
    for m in (net.features[0], net.features[2], net.classifier):
        assert torch.all(m.weight[m.weight_mask == 0] == 0)


def test_one_shot_without_fine_tuning_and_bad_input():
    net = small_cnn(4, 0)
    prune_and_finetune(net, amount=0.5, epochs=0)
    assert sparsity(net) == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(ValueError, match="needs data"):
        prune_and_finetune(small_cnn(4, 0), amount=0.5)
    with pytest.raises(ValueError, match="amount"):
        prune_and_finetune(small_cnn(4, 0), amount=1.5, epochs=0)
    with pytest.raises(ValueError, match="mapping"):
        prune_and_finetune(small_cnn(4, 0), amount={"features.0": 0.5}, epochs=0)
    with pytest.raises(ValueError, match="rounds"):
        prune_and_finetune(small_cnn(4, 0), amount=0.5, rounds=0, epochs=0)
    with pytest.raises(ValueError, match="final_epochs"):
        prune_and_finetune(small_cnn(4, 0), amount=0.5, epochs=0, final_epochs=-1)
    with pytest.raises(ValueError, match="needs data"):
        prune_and_finetune(small_cnn(4, 0), amount=0.5, epochs=0, final_epochs=1)
    with pytest.raises(ValueError, match="alpha"):
        distill(small_cnn(4, 0), small_cnn(2, 0), torch.rand(4, 1, 8, 8), alpha=2.0)
    with pytest.raises(ValueError, match="integer class"):
        distill(small_cnn(4, 0), small_cnn(2, 0), (torch.rand(4, 1, 8, 8), torch.rand(4)))


def test_similarity_scores_by_hand():
    a = torch.tensor([[1.0, 2.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    b = torch.tensor([[2.0, 1.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(a, b).numpy(), [20 / 21, 1.0])
    rho = spearman(a, b)
    assert rho[0] == pytest.approx(spearmanr(a[0], b[0]).statistic) and np.isnan(rho[1])
    assert top_k_iou(a[:1], b[:1], 2).tolist() == [pytest.approx(1 / 3)]
    maps = torch.zeros(2, 2, 2)
    maps[0, 0, 0], maps[1, 1, 1] = 1.0, 1.0
    masks = torch.tensor([[[1, 0], [0, 0]], [[1, 0], [0, 0]]], dtype=torch.bool)
    assert pointing_game(maps, masks).tolist() == [1.0, 0.0]
    # a 2x2 map is upsampled to the 4x4 mask resolution first
    big = torch.zeros(2, 4, 4, dtype=torch.bool)
    big[:, :2, :2] = True
    assert pointing_game(maps, big).tolist() == [1.0, 0.0]


def test_agreement_report_identical_and_different_students(digits, single_thread):
    x = digits[0][:16]
    teacher = small_cnn(4, 0).eval()
    masks = x[:, 0] > 0.5
    same = attribution_agreement(teacher, copy.deepcopy(teacher), x, masks=masks,
                                 teacher_layer="features", student_layer="features",
                                 faithfulness_steps=4)
    assert list(same.index) == ["gradcam", "input_x_gradient", "integrated_gradients"]
    np.testing.assert_allclose(same[["cosine", "spearman", "top_k_iou"]].to_numpy(), 1.0,
                               atol=1e-6)
    np.testing.assert_allclose(same["pointing_teacher"], same["pointing_student"])
    np.testing.assert_allclose(same["insertion_teacher"], same["insertion_student"], atol=1e-6)
    crit = AttributionMatchingLoss("features", "features")
    other = attribution_agreement(teacher, small_cnn(4, 5).eval(), x, methods=("gradcam", "ig"),
                                  attribution=crit, faithfulness=False)
    assert list(other.columns) == ["cosine", "spearman", "top_k_iou"]
    assert float(other.loc["gradcam", "cosine"]) < 0.99
    with pytest.raises(ValueError, match="unknown methods"):
        attribution_agreement(teacher, teacher, x, methods=("lrp",))
    with pytest.raises(ValueError, match="gradcam needs"):
        attribution_agreement(teacher, teacher, x, methods=("gradcam",))
