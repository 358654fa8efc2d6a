"""Weights files as earlier Colorize releases wrote them, for the tests that they still load."""

import json

from safetensors.torch import save_file

from colorize_app.core import weights

# Model settings each format added; a file of an earlier format has none of the later ones.
ADDED_IN = {2: ("in_channels", "blend"), 3: ("semantic", "semantic_mid"), 4: ("hint_attention",)}


def write_old_weights(path, model, version: int):
    """Save ``model`` as a weights file of format ``version`` wrote it; returns the path."""
    config = model.config.to_dict()
    for later, names in ADDED_IN.items():
        if later > version:
            for name in names:
                config.pop(name)
    header = {"format_version": version, "model_config": config, "training": {}}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata={weights.METADATA_KEY: json.dumps(header)})
    return path
