"""Where an extractor's weights come from, and the fingerprint that keys the feature cache.

A model is named by a local path (a ``save_pretrained`` folder, or a torchvision
state-dict file) or a Hugging Face hub id, which must already be in the local
cache when the hub is offline. The fingerprint hashes every file the model is made
of, so that new weights never reuse old features; hashing a multi-gigabyte model is
done once and remembered by (path, size, modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import MissingComponent

RANDOM = "random"  # random-init weights: throughput measurements only
_SKIP = {".md", ".lock", ".gitattributes"}
_NOT_TORCH = ["*.onnx", "*.msgpack", "*.h5", "*.tflite", "*.ot", "onnx/*", "openvino/*", "*.gguf"]


@dataclass(frozen=True)
class WeightsSource:
    """A resolved model: the name the user gave, the local files, and their content fingerprint."""

    spec: str
    path: Path | None
    fingerprint: str

    @property
    def is_random(self) -> bool:
        """True for random-init weights (never meaningful features)."""
        return self.fingerprint == RANDOM


def missing(extractor: str, spec: str | None, why: str, env_key: str) -> MissingComponent:
    """The one-line error for weights that are not here, saying how to provide them."""
    named = f"{spec} " if spec else ""
    return MissingComponent(
        f"{extractor} needs model weights: {named}{why}; pass --model PATH_OR_ID, "
        f"or set {env_key} or `{extractor} = \"PATH\"` in the [models] table of config.toml"
    )


def resolve(extractor: str, spec: str | None, env_key: str, memo: Path | None = None) -> WeightsSource:
    """Finds the files behind ``spec`` (a local path or a cached hub id) and fingerprints them."""
    if not spec:
        raise missing(extractor, None, "no model was named and this extractor has no default", env_key)
    if spec == RANDOM:
        return WeightsSource(spec, None, "random")
    local = Path(spec).expanduser()
    if not local.exists():
        local = _torchvision_file(extractor, spec, env_key) if "_Weights." in spec else _from_hub_cache(extractor, spec, env_key)
    return WeightsSource(spec, local.resolve(), fingerprint(local, memo))


def bundled(package: str, relative: str, memo: Path | None = None) -> WeightsSource:
    """The model files shipped inside an installed wheel (``package``'s folder ``relative``), fingerprinted like any other."""
    import importlib.metadata
    import importlib.util

    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        distribution = package.replace("_", "-")
        raise MissingComponent(f"the bundled model of {package} is not installed: pip install {distribution} (or ./run setup)")
    path = Path(found.origin).parent / relative
    if not path.exists():
        raise MissingComponent(f"{package} is installed without its model files ({path} is missing): reinstall it")
    version = importlib.metadata.version(package.replace("_", "-"))
    return WeightsSource(f"{package.replace('_', '-')}=={version} ({relative}, bundled)", path, fingerprint(path, memo))


#: what a computed (model-free) extractor names as its weights
NO_WEIGHTS = WeightsSource("none (computed, no model)", None, "none")


def fingerprint(path: Path, memo: Path | None = None) -> str:
    """sha256 over the relative names and bytes of every file of a model (a folder or one file)."""
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file() and p.suffix not in _SKIP)
    digest = hashlib.sha256()
    remembered = _load_memo(memo)
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(_file_digest(file, remembered).encode())
    _save_memo(memo, remembered)
    return digest.hexdigest()


def _file_digest(file: Path, remembered: dict[str, str]) -> str:
    stat = file.stat()
    key = f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    if key not in remembered:
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        remembered[key] = digest.hexdigest()
    return remembered[key]


def _torchvision_file(extractor: str, spec: str, env_key: str) -> Path:
    """A torchvision weights name (``R2Plus1D_18_Weights.KINETICS400_V1``) → its file in the torch hub cache."""
    import torch
    import torchvision.models as tvm
    import torchvision.models.video as tvv

    enum_name, _, member = spec.partition(".")
    enum = getattr(tvm, enum_name, None) or getattr(tvv, enum_name, None)
    weights = getattr(enum, member, None) if enum is not None else None
    if weights is None:
        raise missing(extractor, spec, "is not a torchvision weights name", env_key)
    target = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not target.is_file():
        # no download from here: say exactly where the file goes
        raise missing(extractor, spec, f"is not downloaded (fetch {weights.url} into {target.parent}/)", env_key)
    return target


def _from_hub_cache(extractor: str, spec: str, env_key: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    if "/" not in spec:
        raise missing(extractor, spec, "is neither a local path nor a Hugging Face hub id (owner/name)", env_key)
    try:
        return Path(snapshot_download(spec, local_files_only=True))
    except HFValidationError:
        raise missing(extractor, spec, "is not a valid hub id", env_key) from None
    except LocalEntryNotFoundError:
        pass
    try:
        # honours HF_HUB_OFFLINE: offline, this fails at once instead of retrying
        return Path(snapshot_download(spec, ignore_patterns=_NOT_TORCH))
    except Exception as exc:  # noqa: BLE001 - any hub or network failure means the same thing here
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise missing(extractor, spec, f"is not in the local Hugging Face cache and could not be downloaded ({reason})", env_key) from None


def _load_memo(memo: Path | None) -> dict[str, str]:
    if memo is None or not memo.is_file():
        return {}
    try:
        return json.loads(memo.read_text())
    except (OSError, ValueError):
        return {}


def _save_memo(memo: Path | None, remembered: dict[str, str]) -> None:
    if memo is None:
        return
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(remembered, indent=0, sort_keys=True))
    tmp.replace(memo)
