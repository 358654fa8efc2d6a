import json

import pytest
import torch

from colorize_app.core import weights
from colorize_app.core.errors import ModelNotInstalledError, WeightsError
from colorize_app.core.model import ColorizerNet, ModelConfig


def test_saved_weights_reload_to_the_same_predictions(tiny_model, tiny_weights):
    loaded = weights.load_model(tiny_weights)
    x = torch.randn(1, 1, 32, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), tiny_model(x))
    meta = weights.read_metadata(tiny_weights)
    assert meta["format_version"] == 3  # no hint attention: the earliest format that describes it
    assert meta["training"]["note"] == "random weights for tests"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        weights.load_model(tmp_path / "nope.safetensors")


def test_truncated_file_is_reported(tiny_weights, tmp_path):
    cut = tmp_path / "cut.safetensors"
    data = tiny_weights.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="cut.safetensors"):
        weights.load_model(cut)


def test_pickle_file_is_refused_without_being_unpickled(tmp_path):
    evil = tmp_path / "model.safetensors"
    torch.save({"x": torch.zeros(1)}, evil)
    with pytest.raises(WeightsError, match="not a .safetensors"):
        weights.load_model(evil)


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(1)}, other)
    with pytest.raises(WeightsError, match="not Colorize weights"):
        weights.load_model(other)


def test_mismatched_tensors_are_refused(tmp_path):
    model = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32))
    path = weights.save_weights(tmp_path / "w.safetensors", model)
    # Claim a different architecture than the tensors hold.
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    meta = json.loads(header["__metadata__"]["colorize"])
    meta["model_config"]["cut_after"] = 2
    header["__metadata__"]["colorize"] = json.dumps(meta)
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    path.write_bytes(len(new_header).to_bytes(8, "little") + new_header + raw[8 + header_len :])
    with pytest.raises(WeightsError, match="do not match"):
        weights.load_model(path)


def test_no_default_model_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "absent.safetensors")
    with pytest.raises(ModelNotInstalledError, match="--weights"):
        weights.load_model()


def test_saved_weights_are_readable_by_every_user(tiny_model, tmp_path):
    import stat

    path = weights.save_weights(tmp_path / "shared.safetensors", tiny_model)
    assert path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH) == stat.S_IRGRP | stat.S_IROTH
