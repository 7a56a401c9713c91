from script_start import start

start(snakemake)

from pathlib import Path

from bridge.autoencoder.data import download_mnist

download_mnist(Path(snakemake.params.mnist_dir), snakemake.output)
