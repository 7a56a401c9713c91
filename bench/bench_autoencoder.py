"""Training throughput: the project's autoencoder step against snntorch's tutorial loop.

Both train the same architecture (Table 1 of the paper: Leaky / Synaptic layers, 5 steps) from
the same initial weights on the same in-memory batches with the same threads, batch size and
optimizer. The baseline is written the way snntorch's spiking-autoencoder tutorial
(docs/tutorials/tutorial_sae, snntorch 1.0) writes it: ``nn.Sequential`` blocks of layers and
``init_hidden=True`` neurons, ``utils.reset`` per forward, the encoder stepped over all steps,
then the decoder, reconstruction = last-step membrane of a never-spiking Leaky. Only the neuron
types follow the paper (Synaptic in EC2, EC3, DC1, DC2).

Images/s count everything from the first iteration's start to the last one's end, so
``torch.compile`` time is included (a fresh compile cache is used unless --warm-cache).
Achieved FLOP/s use the baseline's FLOPs per iteration (``torch.utils.flop_counter``, forward
and backward) for every variant, i.e. useful model work per second, against the measured
fp32 (and, where the CPU has bf16 instructions, bf16) matrix-multiply peak.

    PYTHONPATH=. python bench/bench_autoencoder.py --iterations 64
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=64, help="iterations per variant")
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--lr", type=float, default=None, help="default: quick config's lr")
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument(
        "--variants",
        default="fused,fused+kernel,fused+bf16,fused+bf16+kernel",
        help="comma-separated project variants: fused plus any of +kernel (neuron_kernel "
        "compiled), +bf16 (precision bf16), +channels_last, +compile (torch.compile of the "
        "model's forward), +per_step (BatchNorm statistics)",
    )
    parser.add_argument("--warm-cache", action="store_true", help="reuse torch.compile's cache")
    parser.add_argument(
        "--loss-tolerance",
        type=float,
        default=0.05,
        help="equal quality: largest relative train-loss difference to the fp32 fused path "
        "allowed over the first --iterations (same seed, same batches)",
    )
    parser.add_argument(
        "--quality-seeds",
        type=int,
        nargs="*",
        default=[],
        help="also train the quick budget (train_run, sigma 0, benchmark scenario) for these "
        "seeds with precision fp32 and bf16 and check that the bf16 mean test MSE lies in "
        "the fp32 seed range (~70 s per run and thread count)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write results as JSON")
    return parser.parse_args()


ARGS = _parse()
if not ARGS.warm_cache:
    # Must be set before torch._inductor reads its config.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench_ae_inductor_")

import snntorch as snn  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from snntorch import surrogate, utils  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from bridge import QUICK_CONFIG_FILES  # noqa: E402
from bridge.autoencoder.data import DataConfig, load_images  # noqa: E402
from bridge.autoencoder.model import ModelConfig, SpikingAutoencoder  # noqa: E402
from bridge.autoencoder.train import train_step  # noqa: E402
from bridge.config import load_config  # noqa: E402
from bridge.provenance import provenance  # noqa: E402

GEMM_SIZE = 2048
GEMM_REPEATS = 5


# -- the baseline, written as snntorch's SAE tutorial writes it --------------------------------


class TutorialSAE(nn.Module):
    def __init__(self, latent_dim, beta, alpha, thresh, spike_grad, num_steps):
        super().__init__()
        self.num_steps = num_steps

        def lif(**kw):
            kw.setdefault("threshold", thresh)
            return snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True, **kw)

        def syn():
            return snn.Synaptic(
                alpha=alpha, beta=beta, spike_grad=spike_grad, init_hidden=True, threshold=thresh
            )

        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, stride=2),
            nn.BatchNorm2d(32),
            lif(),
            nn.Conv2d(32, 64, 3, padding=1, stride=2),
            nn.BatchNorm2d(64),
            syn(),
            nn.Conv2d(64, 128, 3, padding=1, stride=2),
            nn.BatchNorm2d(128),
            syn(),
            nn.Flatten(start_dim=1, end_dim=3),
            nn.Linear(2048, latent_dim),
            lif(output=True),
        )
        self.linearNet = nn.Sequential(nn.Linear(latent_dim, 128 * 4 * 4), lif(output=True))
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (128, 4, 4)),
            lif(),
            nn.ConvTranspose2d(128, 64, 3, padding=1, stride=(2, 2), output_padding=1),
            nn.BatchNorm2d(64),
            syn(),
            nn.ConvTranspose2d(64, 32, 3, padding=1, stride=(2, 2), output_padding=1),
            nn.BatchNorm2d(32),
            syn(),
            nn.ConvTranspose2d(32, 1, 3, padding=1, stride=(2, 2), output_padding=1),
            lif(output=True, threshold=20000),
        )

    def forward(self, x):
        utils.reset(self.encoder)
        utils.reset(self.decoder)
        utils.reset(self.linearNet)
        spk_mem = []
        spk_rec = []
        for _step in range(self.num_steps):
            spk_x, mem_x = self.encode(x)
            spk_rec.append(spk_x)
            spk_mem.append(mem_x)
        spk_rec = torch.stack(spk_rec, dim=2)
        spk_mem = torch.stack(spk_mem, dim=2)
        spk_mem2 = []
        spk_rec2 = []
        for step in range(self.num_steps):
            x_recon, x_mem_recon = self.decode(spk_rec[..., step])
            spk_rec2.append(x_recon)
            spk_mem2.append(x_mem_recon)
        spk_rec2 = torch.stack(spk_rec2, dim=4)
        spk_mem2 = torch.stack(spk_mem2, dim=4)
        return spk_mem2[:, :, :, :, -1]

    def encode(self, x):
        return self.encoder(x)

    def decode(self, x):
        spk_x, mem_x = self.linearNet(x)
        return self.decoder(spk_x)


def tutorial_train_step(network, real_img, opti):
    opti.zero_grad()
    x_recon = network(real_img)
    loss_val = F.mse_loss(x_recon, real_img)
    loss_val.backward()
    opti.step()
    return loss_val.item()


# -- helpers --------------------------------------------------------------------------------------

#: Project parameter -> (baseline module path, index) of the same weight.
WEIGHT_MAP = {
    "synapse.EC_Lk1": "encoder.0",
    "norm.EC_Lk1": "encoder.1",
    "synapse.EC_Syn1": "encoder.3",
    "norm.EC_Syn1": "encoder.4",
    "synapse.EC_Syn2": "encoder.6",
    "norm.EC_Syn2": "encoder.7",
    "synapse.EC_Lk2": "encoder.10",
    "synapse.LS_Lk": "linearNet.0",
    "synapse.DC_Syn1": "decoder.2",
    "norm.DC_Syn1": "decoder.3",
    "synapse.DC_Syn2": "decoder.5",
    "norm.DC_Syn2": "decoder.6",
    "synapse.DC_Lk2": "decoder.8",
}


def copy_weights(baseline: TutorialSAE, project: SpikingAutoencoder) -> None:
    source = baseline.state_dict()
    target = project.state_dict()
    for key in target:
        prefix, _, leaf = key.rpartition(".")
        if prefix in WEIGHT_MAP:
            value = source[f"{WEIGHT_MAP[prefix]}.{leaf}"]
            if leaf in ("running_mean", "running_var") and target[key].dim() == 2:
                value = value.expand_as(target[key])  # per-step statistics
            target[key] = value.clone()
    project.load_state_dict(target)


def gemm_peak(dtype: torch.dtype) -> float:
    a = torch.randn(GEMM_SIZE, GEMM_SIZE).to(dtype)
    b = torch.randn(GEMM_SIZE, GEMM_SIZE).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(GEMM_REPEATS):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * GEMM_SIZE**3 / best


@torch.no_grad()
def test_mse(forward: Callable[[torch.Tensor], torch.Tensor], test: torch.Tensor, batch: int):
    err = 0.0
    for i in range(0, test.shape[0], batch):
        x = test[i : i + batch]
        err += F.mse_loss(forward(x), x, reduction="sum").item()
    return err / test.numel()


def _grads(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    out = model(x).reconstruction
    F.mse_loss(out, x).backward()
    return out.detach(), {
        n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None
    }


def gradient_agreement(runners, train_batch: torch.Tensor, test_batch: torch.Tensor) -> dict:
    """Forward and gradients of every project variant at the fp32 fused path's trained weights.

    Per variant: relative L2 difference of the reconstruction on a test batch and the cosine
    similarity of each parameter's gradient to the fp32 fused path's (tensors whose gradient
    is below 1e-4 of the largest, i.e. conv biases before BatchNorm with a true gradient of 0,
    are skipped). For scale, the fp32 path's own cosine between the gradients of a training
    and a test batch: a variant's gradient that is closer than that to the fp32 gradient errs
    less than minibatch sampling does.
    """
    models = {name: module for name, _, _, module in runners if name.startswith("project")}
    if "project fused" not in models:
        return {}
    source = models["project fused"]
    state = copy.deepcopy(source.state_dict())
    source.train()
    ref_out, ref = _grads(source, test_batch)
    _, other_batch = _grads(source, train_batch)
    scale = max(float(g.abs().max()) for g in ref.values())
    keep = [n for n, g in ref.items() if float(g.abs().max()) >= 1e-4 * scale]

    def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(F.cosine_similarity(a.flatten().double(), b.flatten().double(), dim=0))

    batch_cosines = sorted(cosine(ref[n], other_batch[n]) for n in keep)
    batch_cos = batch_cosines[len(batch_cosines) // 2]
    print(
        f"\nforward and gradients at the fp32 fused weights after training (test batch; "
        f"fp32 gradient, test vs training batch: cosine median {batch_cos:.3f}, "
        f"min {batch_cosines[0]:.3f}):"
    )
    found = {}
    for name, model in models.items():
        if name == "project fused" or "compile" in name:
            continue
        saved = copy.deepcopy(model.state_dict())
        model.load_state_dict(state)
        model.train()
        out, grads = _grads(model, test_batch)
        model.load_state_dict(saved)
        rel = float((out - ref_out).norm() / ref_out.norm())
        cosines = {n: cosine(grads[n], ref[n]) for n in keep}
        worst = min(cosines, key=cosines.get)
        print(
            f"  {name:32s} reconstruction rel. diff {rel:.2e}, gradient cosine min "
            f"{cosines[worst]:.4f} ({worst}), median {sorted(cosines.values())[len(keep) // 2]:.4f}"
        )
        found[name] = {
            "reconstruction_rel_diff": rel,
            "gradient_cosine": cosines,
            "gradient_cosine_train_vs_test_batch_fp32_median": batch_cos,
        }
    return found


def quality_runs(section: dict, seeds: list[int]) -> dict:
    """The quick budget (benchmark scenario, sigma 0) per seed in fp32 and bf16: final test MSE,
    and whether the bf16 mean lies inside the fp32 seed range."""
    from bridge.autoencoder.model import NeuronParams
    from bridge.autoencoder.train import RunConfig, train_run

    found: dict[str, dict[int, float]] = {"fp32": {}, "bf16": {}}
    for precision in found:
        for seed in seeds:
            cfg = copy.deepcopy(section)
            cfg["model"] = {**cfg["model"], "precision": precision, "neuron_kernel": "eager"}
            cfg["progress_bar"] = False
            run = RunConfig.from_config(cfg, scenario="s1_benchmark", sigma=0.0, seed=seed)
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                metrics = train_run(run, NeuronParams(), tmp)
            found[precision][seed] = metrics["test_mse_final"]
            print(
                f"quick budget, {precision}, seed {seed}: test MSE "
                f"{metrics['test_mse_final']:.5f} ({time.perf_counter() - started:.0f} s)"
            )
    low, high = min(found["fp32"].values()), max(found["fp32"].values())
    mean16 = sum(found["bf16"].values()) / len(seeds)
    inside = low <= mean16 <= high
    print(
        f"quick budget over seeds {seeds}: fp32 range [{low:.5f}, {high:.5f}], bf16 mean "
        f"{mean16:.5f}: {'inside' if inside else 'OUTSIDE'} the fp32 seed range"
    )
    return {"test_mse": found, "fp32_range": [low, high], "bf16_mean": mean16, "inside": inside}


#: The convolutions of the network (in channels, out channels, input side, transposed).
CONV_SHAPES = ((32, 64, 16, False), (64, 128, 8, False), (128, 64, 4, True), (64, 32, 8, True))
ENSEMBLE_SEEDS = 3


def ensemble_check(batch: int, dtype: torch.dtype, repeats: int = 4) -> tuple[float, float]:
    """Seeds as one ensemble: three seeds' convolutions (forward + backward, spike inputs) as
    three calls against one grouped call (groups=3, the seeds' channels side by side); returns
    (separate, grouped) seconds summed over the network's convolutions."""

    def timed(fn) -> float:
        fn()
        start = time.process_time()
        for _ in range(repeats):
            fn()
        return (time.process_time() - start) / repeats

    separate = grouped = 0.0
    for c_in, c_out, side, transposed in CONV_SHAPES:
        op = F.conv_transpose2d if transposed else F.conv2d
        extra = {"output_padding": 1} if transposed else {}
        w_shape = (c_in, c_out, 3, 3) if transposed else (c_out, c_in, 3, 3)
        xs = [(torch.rand(batch, c_in, side, side) < 0.2).to(dtype) for _ in range(ENSEMBLE_SEEDS)]
        ws = [torch.randn(w_shape).to(dtype) for _ in range(ENSEMBLE_SEEDS)]
        xs = [x.requires_grad_(True) for x in xs]
        ws = [w.requires_grad_(True) for w in ws]
        xg = torch.cat([x.detach() for x in xs], 1).requires_grad_(True)
        wg = torch.cat([w.detach() for w in ws], 0).requires_grad_(True)

        def apart(op=op, extra=extra, xs=xs, ws=ws):
            ys = [op(x, w, stride=2, padding=1, **extra) for x, w in zip(xs, ws, strict=True)]
            torch.autograd.backward(ys, [torch.ones_like(y) for y in ys])

        def together(op=op, extra=extra, xg=xg, wg=wg):
            y = op(xg, wg, stride=2, padding=1, groups=ENSEMBLE_SEEDS, **extra)
            y.backward(torch.ones_like(y))

        separate += timed(apart)
        grouped += timed(together)
    return separate, grouped


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def main() -> None:
    if ARGS.threads > 0:
        torch.set_num_threads(ARGS.threads)
    config = load_config(list(QUICK_CONFIG_FILES))
    section = config["autoencoder"]
    lr = ARGS.lr if ARGS.lr is not None else section["training"]["lr"]
    model_cfg = ModelConfig(**section["model"])
    images = load_images(DataConfig(**{**section["data"], "source": "embedded"}))
    train, test = images.train, images.test
    gen = torch.Generator().manual_seed(ARGS.seed)
    batches = []
    while len(batches) < ARGS.iterations:
        order = torch.randperm(train.shape[0], generator=gen)
        for i in range(0, train.shape[0] - ARGS.batch_size + 1, ARGS.batch_size):
            batches.append(train[order[i : i + ARGS.batch_size]].contiguous())
    batches = batches[: ARGS.iterations]
    flags = cpu_flags()
    bf16_ok = torch.cpu._is_avx512_bf16_supported() or "amx_bf16" in flags
    load_before = os.getloadavg()
    peak32_before = gemm_peak(torch.float32)
    peak16_before = gemm_peak(torch.bfloat16) if bf16_ok else 0.0

    torch.manual_seed(ARGS.seed)
    baseline = TutorialSAE(
        model_cfg.latent_dim,
        0.9,
        0.9,
        model_cfg.threshold,
        surrogate.atan(alpha=model_cfg.surrogate_alpha),
        model_cfg.num_steps,
    )
    if model_cfg.readout_init == "zero":
        # Same starting point as the project's configured model: a blank-image readout.
        with torch.no_grad():
            baseline.decoder[8].weight.zero_()
            baseline.decoder[8].bias.zero_()
    initial = copy.deepcopy(baseline.state_dict())
    with FlopCounterMode(display=False) as counter:
        out = baseline(batches[0])
        F.mse_loss(out, batches[0]).backward()
    flops_per_iteration = counter.get_total_flops()
    baseline.load_state_dict(initial)
    baseline.zero_grad(set_to_none=True)

    def adamw(params):
        tcfg = section["training"]
        return torch.optim.AdamW(
            params, lr=lr, betas=tuple(tcfg["betas"]), weight_decay=tcfg["weight_decay"]
        )

    # Runners: (name, training step, test-set forward, module). All train on the same batches in
    # round-robin order, so that load from other processes on a shared machine hits each alike.
    runners = []
    opt = adamw(baseline.parameters())
    runners.append(
        (
            "snntorch tutorial loop",
            lambda x, net=baseline, o=opt: tutorial_train_step(net, x, o),
            baseline,
            baseline,
        )
    )
    for variant in [v for v in ARGS.variants.split(",") if v]:
        parts = set(variant.split("+"))
        if "bf16" in parts and not bf16_ok:
            print(f"skip {variant}: this CPU has no bf16 instructions (avx512_bf16/amx_bf16)")
            continue
        # Shared BatchNorm statistics as in the tutorial loop (per_step only changes evaluation
        # and is timed as its own variant), so that test MSEs compare the same computation.
        cfg = replace(
            model_cfg,
            engine="fused",
            norm_stats="per_step" if "per_step" in parts else "shared",
            precision="bf16" if "bf16" in parts else "fp32",
            neuron_kernel="compiled" if "kernel" in parts else "eager",
        )
        reference = TutorialSAE(cfg.latent_dim, 0.9, 0.9, 1.0, surrogate.atan(), cfg.num_steps)
        reference.load_state_dict(initial)
        model = SpikingAutoencoder(cfg)
        copy_weights(reference, model)
        optimizer = adamw(model.parameters())
        layout = torch.channels_last if "channels_last" in parts else torch.contiguous_format
        model.to(memory_format=layout)
        if "compile" in parts:
            model.forward = torch.compile(model.forward)

        def step(x, model=model, optimizer=optimizer, layout=layout):
            x = x.contiguous(memory_format=layout)
            return train_step(model, optimizer, x, x).loss

        def forward(x, model=model, layout=layout):
            return model(x.contiguous(memory_format=layout)).reconstruction

        model.train()
        runners.append((f"project {variant}", step, forward, model))

    times = {name: [] for name, *_ in runners}
    losses = {name: [] for name, *_ in runners}
    for x in batches:
        for name, step, *_ in runners:
            start = time.perf_counter()
            losses[name].append(step(x))
            times[name].append(time.perf_counter() - start)
    results = []
    for name, _, forward, module in runners:
        module.eval()
        results.append(
            {
                "variant": name,
                "total_s": sum(times[name]),
                "times": times[name],
                "test_mse": test_mse(forward, test, ARGS.batch_size),
                "final_train_loss": losses[name][-1],
            }
        )

    # Peaks before and after the training (load from other processes lowers a measurement).
    peak32 = max(peak32_before, gemm_peak(torch.float32))
    peak16 = max(peak16_before, gemm_peak(torch.bfloat16)) if bf16_ok else None
    load_after = os.getloadavg()
    base = results[0]
    n_images = ARGS.iterations * ARGS.batch_size
    print()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, ")
    print(
        f"threads {torch.get_num_threads()}, batch {ARGS.batch_size}, {ARGS.iterations} "
        f"iterations, lr {lr:g}, compile cache {'warm' if ARGS.warm_cache else 'cold'}"
    )
    print(f"load average before {load_before}, after {load_after}")
    print(
        f"matmul peak {GEMM_SIZE}^3: fp32 {peak32 / 1e9:.1f} GFLOP/s"
        + (f", bf16 {peak16 / 1e9:.1f} GFLOP/s" if peak16 else ", bf16 n/a")
    )
    print(f"model FLOPs per iteration (baseline, fwd+bwd): {flops_per_iteration / 1e9:.2f} GFLOP")
    header = (
        f"{'variant':32s} {'img/s':>7s} {'x base':>6s} {'first s':>7s} {'median s':>8s} "
        f"{'x median':>8s} "
        f"{'GFLOP/s':>8s} {'%peak':>6s} {'med %pk':>7s} {'test MSE':>9s} {'dMSE %':>7s}"
    )
    print(header)
    for r in results:
        ips = n_images / r["total_s"]
        flops = flops_per_iteration * ARGS.iterations / r["total_s"]
        median = sorted(r["times"])[len(r["times"]) // 2]
        share = 100 * flops / peak32
        r.update(
            images_per_s=ips,
            speedup=base["total_s"] / r["total_s"],
            median_speedup=sorted(base["times"])[len(base["times"]) // 2] / median,
            first_iteration_s=r["times"][0],
            median_iteration_s=median,
            achieved_flop_s=flops,
            fraction_of_fp32_peak=flops / peak32,
            median_fraction_of_fp32_peak=flops_per_iteration / median / peak32,
            test_mse_rel_diff=(r["test_mse"] - base["test_mse"]) / base["test_mse"],
        )
        print(
            f"{r['variant']:32s} {ips:7.1f} {r['speedup']:6.2f} {r['times'][0]:7.2f} "
            f"{median:8.3f} {r['median_speedup']:8.2f} {flops / 1e9:8.1f} {share:6.1f} "
            f"{100 * flops_per_iteration / median / peak32:7.1f} "
            f"{r['test_mse']:9.5f} {100 * r['test_mse_rel_diff']:7.2f}"
        )
    reference = next((r for r in results if r["variant"] == "project fused"), None)
    if reference is not None:
        print(
            "\nequal quality against the fp32 fused path "
            f"(same seed, same {ARGS.iterations} batches):"
        )
        for r in results:
            diff = max(
                abs(a - b) / b
                for a, b in zip(losses[r["variant"]], losses["project fused"], strict=True)
            )
            r["max_train_loss_rel_diff_vs_fp32_fused"] = diff
            verdict = "within" if diff <= ARGS.loss_tolerance else "OUTSIDE"
            print(
                f"  {r['variant']:32s} largest train-loss difference {100 * diff:6.2f} % "
                f"({verdict} {100 * ARGS.loss_tolerance:g} %)"
            )
        agreement = gradient_agreement(runners, batches[0], test[: ARGS.batch_size])
        for r in results:
            r.update(agreement.get(r["variant"], {}))
    print(f"\nseeds as one ensemble ({ENSEMBLE_SEEDS} seeds' convolutions, fwd + bwd, CPU s):")
    ensemble = {}
    for dtype in (torch.float32, torch.bfloat16) if bf16_ok else (torch.float32,):
        apart, together = ensemble_check(ARGS.batch_size, dtype)
        ensemble[str(dtype)] = {"separate_s": apart, "grouped_s": together}
        print(
            f"  {str(dtype):15s} separate {apart:.3f} s, grouped {together:.3f} s: "
            f"ensemble {apart / together:.2f}x"
        )
    quality = quality_runs(section, ARGS.quality_seeds) if ARGS.quality_seeds else None

    if ARGS.out is not None:
        from bridge.io import write_json

        for r in results:
            r.pop("times")
        write_json(
            ARGS.out,
            {
                "results": results,
                "iterations": ARGS.iterations,
                "batch_size": ARGS.batch_size,
                "threads": torch.get_num_threads(),
                "lr": lr,
                "load_average_before": load_before,
                "load_average_after": load_after,
                "matmul_peak_fp32_flop_s": peak32,
                "matmul_peak_bf16_flop_s": peak16,
                "flops_per_iteration": flops_per_iteration,
                "compile_cache": "warm" if ARGS.warm_cache else "cold",
                "loss_tolerance": ARGS.loss_tolerance,
                "quality": quality,
                "ensemble_conv_check": ensemble,
                "provenance": provenance({"bench": vars(ARGS) | {"out": str(ARGS.out)}}),
            },
        )


if __name__ == "__main__":
    sys.exit(main())
