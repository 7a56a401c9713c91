"""Convolutional spiking autoencoder of the hyperexcitability paper (its Table 1).

Reading of Table 1 (the table is ambiguous at the latent space and the decoder; this is the
project's documented choice, the same as snntorch's spiking-autoencoder tutorial, whose
hyperparameters the paper uses). Shapes are channels x height x width, per time step:

======== ============================================== =============== ==========
layer    synapse (3x3 kernels, stride 2, padding 1)      output          neuron
======== ============================================== =============== ==========
EC_Lk1   Conv2d 1->32 + BatchNorm                        32 x 16 x 16    Leaky
EC_Syn1  Conv2d 32->64 + BatchNorm                       64 x 8 x 8      Synaptic
EC_Syn2  Conv2d 64->128 + BatchNorm                      128 x 4 x 4     Synaptic
EC_Lk2   flatten, Linear 2048 -> latent_dim              latent_dim      Leaky
LS_Lk    Linear latent_dim -> 2048 (= 128 x 4 x 4)       2048            Leaky
DC_Lk1   unflatten to 128 x 4 x 4 (no weights)           128 x 4 x 4     Leaky
DC_Syn1  ConvTranspose2d 128->64 (+output_padding 1)+BN  64 x 8 x 8      Synaptic
DC_Syn2  ConvTranspose2d 64->32 (+output_padding 1)+BN   32 x 16 x 16    Synaptic
DC_Lk2   ConvTranspose2d 32->1 (+output_padding 1)       1 x 32 x 32     Leaky readout
======== ============================================== =============== ==========

So "EN-Linear (Flatten)" is the bottleneck EC_Lk2 (``latent_dim`` features, default 32, a real
compression of the 1024 pixels), "LS-Linear 128x4x4" maps the latent code back to 2048 features,
"DE-Linear (unFlatten)" is the weightless Leaky after the unflatten, and the decoder's "4x4x128 /
8x8x64 / 16x16x32" entries are the *inputs* of DC1-DC3, mirroring the encoder's outputs.

Reconstruction: the static (or noisy) image is fed at every one of ``num_steps`` steps, or an
input stream (batch, ``num_steps``, 1, 32, 32) gives each step its own frame (per-step noise,
``autoencoder.noise.protocols``; EC_Lk1's BatchNorm then sees each step's batch, as every
later layer does); DC_Lk2
never spikes (its threshold is :data:`READOUT_THRESHOLD`, as in the tutorial) and the image is
its membrane potential at the last step. DC_Lk2 therefore has no firing rate; the eight other
layers return their spike trains.

BatchNorm follows every convolution except the readout's, as in the tutorial (Table 1 does not
list it). Training normalises every step with that step's batch statistics (the module is
called once per step); ``norm_stats`` picks whether evaluation uses one running average shared
by all steps (the tutorial) or one per step. ``readout_init`` picks PyTorch's default
initialisation of the readout (the tutorial) or zeros (the untrained network outputs a blank
image).

Mapped bias. A condition's ``bias`` (the mapping's ``bias_fit``) is a constant drive of every
spiking neuron's membrane: a Leaky layer adds it to its input current, a Synaptic layer to its
membrane beside the synaptic current, not into the current, which ``alpha`` would integrate to
``bias / (1 - alpha)`` (:mod:`bridge.neurons.fused` says why the membrane and not the current
scaled by ``1 - alpha``). So at zero input every layer does what the mapped LIF does: silent
when its resting drive ``bias / (1 - beta)`` is below threshold, the LIF's spikes otherwise.

Offsets. ``offsets="trained"`` keeps the tutorial's trainable biases of the convolutions and
linears and BatchNorm's trainable shift (the paper's scenarios: Table 2 comparability). Any of
them can learn ``-bias`` and cancel the mapped drive, so ``offsets="frozen"`` fixes them at 0,
not trainable (:meth:`SpikingAutoencoder.offset_parameters` lists them); the readout's bias
stays trainable (it adds to the non-spiking output, no spiking layer's input). BatchNorm's
scale stays trainable and can still shrink the input relative to the bias:
:func:`effective_bias` reports the ratio.

Two engines compute the same network from the same parameters and neuron modules:

* ``"snntorch"`` steps snntorch's ``Leaky``/``Synaptic`` modules one time step at a time, the
  reference (:mod:`bridge.neurons.stepped`);
* ``"fused"`` runs each layer's whole spike train in one autograd function with the same update
  equations (:mod:`bridge.neurons.lif`; the kernel is :mod:`bridge.neurons.fused`), a
  hand-written backward pass, the first layer's convolution computed once for the static input,
  and the linear readout reduced to one transposed convolution. Tests check that both engines
  give the same reconstruction, spikes and gradients.

The fused engine has two speed options (``bench/bench_autoencoder.py`` measures them):
``precision="bf16"`` runs the convolutions and linears under bfloat16 autocast while the neuron
state stays float32 and spikes travel as exact bfloat16 0/1 (this changes results: rounded
weights move threshold crossings, so it is judged by training-level quality, not equality), and
``neuron_kernel="compiled"`` runs each layer's neuron update as one ``torch.compile`` loop (same
numbers to float rounding; needs a C++ compiler and a compile of 20-90 s per machine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from snntorch import surrogate
from torch import nn
from torch.nn import functional as F

from bridge.autoencoder.layers import LAYER_NAMES, READOUT_LAYER, SPIKING_LAYERS, SYNAPTIC_LAYERS
from bridge.neurons.fused import KERNELS, spike_train
from bridge.neurons.stepped import NeuronState, snntorch_neuron, snntorch_step

IMAGE_SIZE_PX = 32
ENCODER_CHANNELS = (1, 32, 64, 128)
BOTTLENECK_SIDE_PX = IMAGE_SIZE_PX // 2 ** (len(ENCODER_CHANNELS) - 1)
BOTTLENECK_FEATURES = ENCODER_CHANNELS[-1] * BOTTLENECK_SIDE_PX**2
KERNEL_PX = 3
STRIDE_PX = 2
PADDING_PX = 1
#: The tutorial's "threshold so high it never spikes" for the readout (threshold units).
READOUT_THRESHOLD = 20000.0
#: Dimensions of an input stream (batch, step, channel, height, width): one frame per step.
STREAM_DIMS = 5


@dataclass(frozen=True)
class NeuronParams:
    """Frozen neuron constants of one scenario (per time step, dimensionless).

    ``beta`` is every Leaky layer's membrane decay (readout included), ``alpha`` and
    ``beta_syn`` every Synaptic layer's current and membrane decay, ``bias`` a constant
    drive (threshold units per step) of every spiking neuron's membrane at every step: the
    input current of a Leaky layer, the membrane (not the synaptic current) of a Synaptic one
    (the mapping stage's ``bias_fit``; 0 in the paper's scenarios).
    """

    beta: float = 0.9
    alpha: float = 0.9
    beta_syn: float = 0.9
    bias: float = 0.0

    def __post_init__(self) -> None:
        for name in ("beta", "alpha", "beta_syn"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f"NeuronParams.{name} must be a number in [0, 1], got {value!r}")
        if not (isinstance(self.bias, (int, float)) and math.isfinite(self.bias)):
            raise ValueError(f"NeuronParams.bias must be a finite number, got {self.bias!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and simulation settings (``autoencoder.model`` in the config)."""

    num_steps: int = 5
    latent_dim: int = 32
    threshold: float = 1.0
    surrogate_alpha: float = 2.0
    engine: str = "fused"
    norm_stats: str = "shared"
    readout_init: str = "default"
    offsets: str = "trained"
    precision: str = "fp32"
    neuron_kernel: str = "eager"

    def __post_init__(self) -> None:
        if self.num_steps < 1:
            raise ValueError(f"ModelConfig.num_steps must be >= 1, got {self.num_steps}")
        if not 1 <= self.latent_dim < IMAGE_SIZE_PX**2:
            raise ValueError(
                f"ModelConfig.latent_dim must be in [1, {IMAGE_SIZE_PX**2}) to compress the "
                f"image, got {self.latent_dim}"
            )
        if self.engine not in ENGINES:
            raise ValueError(f"ModelConfig.engine must be one of {ENGINES}, got {self.engine!r}")
        if self.readout_init not in READOUT_INITS:
            raise ValueError(
                f"ModelConfig.readout_init must be one of {READOUT_INITS}, "
                f"got {self.readout_init!r}"
            )
        if self.offsets not in OFFSETS:
            raise ValueError(f"ModelConfig.offsets must be one of {OFFSETS}, got {self.offsets!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"ModelConfig.precision must be one of {PRECISIONS}, got {self.precision!r}"
            )
        if self.neuron_kernel not in KERNELS:
            raise ValueError(
                f"ModelConfig.neuron_kernel must be one of {KERNELS}, got {self.neuron_kernel!r}"
            )
        if self.precision != "fp32" and self.engine != "fused":
            raise ValueError(
                f"ModelConfig.precision {self.precision!r} needs engine 'fused' (the snntorch "
                "reference keeps its neuron state in the currents' dtype)"
            )
        if self.norm_stats not in NORM_STATS:
            raise ValueError(
                f"ModelConfig.norm_stats must be one of {NORM_STATS}, got {self.norm_stats!r}"
            )


ENGINES = ("fused", "snntorch")
NORM_STATS = ("shared", "per_step")
#: "default": PyTorch's initialisation everywhere (snntorch's tutorial); "zero": the readout's
#: transposed convolution starts at zero, so the untrained network outputs a blank image
#: instead of a random one (whose MSE is often 10-20x the blank image's).
READOUT_INITS = ("default", "zero")
#: "trained": the tutorial's trainable layer biases and BatchNorm shifts; "frozen": fixed at 0.
OFFSETS = ("trained", "frozen")
#: "fp32": everything in float32; "bf16": convolutions and matrix products under bfloat16
#: autocast (the neuron state stays float32, spikes travel as exact bfloat16 0/1).
PRECISIONS = ("fp32", "bf16")


@dataclass
class AutoencoderOutput:
    """Reconstruction (batch, 1, 32, 32) and, per spiking layer, one spike tensor per step."""

    reconstruction: torch.Tensor
    spikes: dict[str, tuple[torch.Tensor, ...]]

    def stacked(self, name: str) -> torch.Tensor:
        """Spikes of layer ``name`` as one (batch, steps, ...) tensor."""
        return torch.stack(self.spikes[name], dim=1)


class StepBatchNorm2d(nn.Module):
    """BatchNorm2d with running statistics kept per time step (affine parameters shared).

    Training is the same as calling one BatchNorm2d at every step: each step is normalised
    with its own batch statistics. The difference is at evaluation: a shared BatchNorm2d
    normalises every step with one running average dominated by the last steps (momentum
    updates at every step), whereas this one uses each step's own running statistics, i.e. the
    normalisation the network was trained with.
    """

    def __init__(self, num_features: int, num_steps: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_steps, num_features))
        self.register_buffer("running_var", torch.ones(num_steps, num_features))

    def forward(self, x: torch.Tensor, step: int) -> torch.Tensor:
        if not self.training:
            return F.batch_norm(
                x,
                self.running_mean[step],
                self.running_var[step],
                self.weight,
                self.bias,
                False,
                0.0,
                self.eps,
            )
        # Update copies: autograd keeps the running statistics it was given, and writing into
        # rows of the shared buffer would change a tensor it saved.
        mean, var = self.running_mean[step].clone(), self.running_var[step].clone()
        out = F.batch_norm(x, mean, var, self.weight, self.bias, True, self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean[step] = mean
            self.running_var[step] = var
        return out

    def set_all_steps_from(self, step: int) -> None:
        """Copy one step's running statistics to every step (static inputs)."""
        with torch.no_grad():
            self.running_mean.copy_(self.running_mean[step].expand_as(self.running_mean).clone())
            self.running_var.copy_(self.running_var[step].expand_as(self.running_var).clone())


def _conv(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, KERNEL_PX, stride=STRIDE_PX, padding=PADDING_PX)


def _deconv(in_ch: int, out_ch: int) -> nn.ConvTranspose2d:
    # output_padding 1 makes stride 2 exactly double the side (4 -> 8 -> 16 -> 32).
    return nn.ConvTranspose2d(
        in_ch, out_ch, KERNEL_PX, stride=STRIDE_PX, padding=PADDING_PX, output_padding=1
    )


class SpikingAutoencoder(nn.Module):
    """The paper's spiking autoencoder; ``forward`` returns :class:`AutoencoderOutput`."""

    def __init__(self, config: ModelConfig | None = None, params: NeuronParams | None = None):
        super().__init__()
        self.config = config or ModelConfig()
        self.engine = self.config.engine
        c0, c1, c2, c3 = ENCODER_CHANNELS
        latent = self.config.latent_dim
        self.synapse = nn.ModuleDict(
            {
                "EC_Lk1": _conv(c0, c1),
                "EC_Syn1": _conv(c1, c2),
                "EC_Syn2": _conv(c2, c3),
                "EC_Lk2": nn.Linear(BOTTLENECK_FEATURES, latent),
                "LS_Lk": nn.Linear(latent, BOTTLENECK_FEATURES),
                "DC_Syn1": _deconv(c3, c2),
                "DC_Syn2": _deconv(c2, c1),
                "DC_Lk2": _deconv(c1, c0),
            }
        )
        steps = self.config.num_steps
        if self.config.norm_stats == "per_step":
            norm_channels = {"EC_Lk1": c1, "EC_Syn1": c2, "EC_Syn2": c3, "DC_Syn1": c2}
            norm_channels["DC_Syn2"] = c1
            self.norm = nn.ModuleDict(
                {name: StepBatchNorm2d(ch, steps) for name, ch in norm_channels.items()}
            )
        else:
            self.norm = nn.ModuleDict(
                {
                    "EC_Lk1": nn.BatchNorm2d(c1),
                    "EC_Syn1": nn.BatchNorm2d(c2),
                    "EC_Syn2": nn.BatchNorm2d(c3),
                    "DC_Syn1": nn.BatchNorm2d(c2),
                    "DC_Syn2": nn.BatchNorm2d(c1),
                }
            )
        spike_grad = surrogate.atan(alpha=self.config.surrogate_alpha)
        neurons: dict[str, nn.Module] = {}
        for name in LAYER_NAMES:
            threshold = READOUT_THRESHOLD if name == READOUT_LAYER else self.config.threshold
            neurons[name] = snntorch_neuron(name in SYNAPTIC_LAYERS, threshold, spike_grad)
        self.neuron = nn.ModuleDict(neurons)
        if self.config.readout_init == "zero":
            with torch.no_grad():
                self.synapse[READOUT_LAYER].weight.zero_()
                self.synapse[READOUT_LAYER].bias.zero_()
        if self.config.offsets == "frozen":
            for offset in self.offset_parameters().values():
                with torch.no_grad():
                    offset.zero_()
                offset.requires_grad_(False)
        self.params = NeuronParams()
        self.set_neuron_params(params or NeuronParams())

    def offset_parameters(self) -> dict[str, nn.Parameter]:
        """Every parameter that adds a constant to a spiking layer's input, by its name in
        ``named_parameters``: the convolutions' and linears' biases (not the readout's) and
        BatchNorm's shift. Frozen at 0 when ``config.offsets`` is "frozen"."""
        found = {
            f"synapse.{name}.bias": module.bias
            for name, module in self.synapse.items()
            if name != READOUT_LAYER and module.bias is not None
        }
        found.update({f"norm.{name}.bias": module.bias for name, module in self.norm.items()})
        return found

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters an optimizer updates (frozen offsets excluded)."""
        return [p for p in self.parameters() if p.requires_grad]

    def set_neuron_params(self, params: NeuronParams) -> None:
        """Set every neuron's decay constants (buffers: frozen, never trained) and the bias."""
        for name, neuron in self.neuron.items():
            if name in SYNAPTIC_LAYERS:
                neuron.alpha.fill_(params.alpha)
                neuron.beta.fill_(params.beta_syn)
            else:
                neuron.beta.fill_(params.beta)
        self.params = params

    # -- currents -----------------------------------------------------------------------------

    def _normalize(self, name: str, x: torch.Tensor, step: int) -> torch.Tensor:
        norm = self.norm[name]
        return norm(x, step) if isinstance(norm, StepBatchNorm2d) else norm(x)

    def _input_current(self, images: torch.Tensor) -> torch.Tensor:
        """EC_Lk1's current, computed once: the input is the same at every step.

        Feeding the same batch T times to a training-mode BatchNorm gives the same batch
        statistics T times; shared running statistics then move T times with momentum m, which
        one update with momentum 1 - (1 - m)^T reproduces; per-step running statistics all move
        once, by the same amount, so they stay equal to those of step 0.
        """
        conv = self.synapse["EC_Lk1"](images)
        norm = self.norm["EC_Lk1"]
        if isinstance(norm, StepBatchNorm2d):
            out = norm(conv, 0)
            if self.training:
                norm.set_all_steps_from(0)
            return out
        momentum = norm.momentum
        if self.training and momentum is not None:
            momentum = 1.0 - (1.0 - momentum) ** self.config.num_steps
        out = F.batch_norm(
            conv,
            norm.running_mean,
            norm.running_var,
            norm.weight,
            norm.bias,
            self.training,
            momentum if momentum is not None else 0.0,
            norm.eps,
        )
        if self.training and norm.num_batches_tracked is not None:
            norm.num_batches_tracked.add_(self.config.num_steps)
        return out

    def _currents(self, name: str, spikes_in: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        """Per-step input currents of layer ``name`` from the previous layer's spikes."""
        if name == "DC_Lk1":
            shape = (ENCODER_CHANNELS[-1], BOTTLENECK_SIDE_PX, BOTTLENECK_SIDE_PX)
            return [s.unflatten(1, shape) for s in spikes_in]
        synapse = self.synapse[name]
        if name == "EC_Lk2":
            return [synapse(s.flatten(1)) for s in spikes_in]
        if name not in self.norm:
            return [synapse(s) for s in spikes_in]
        # BatchNorm at every step with that step's batch statistics, as the tutorial loop does.
        return [self._normalize(name, synapse(s), t) for t, s in enumerate(spikes_in)]

    def _readout(self, spikes_in: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """DC_Lk2 membrane at the last step: sum_t beta^(T-1-t) * (W * s_t + b).

        The readout never spikes (never resets), so its membrane is linear in its inputs and the
        T transposed convolutions reduce to one of the decay-weighted sum of the spikes.
        """
        deconv = self.synapse[READOUT_LAYER]
        beta = min(max(float(self.neuron[READOUT_LAYER].beta), 0.0), 1.0)
        steps = len(spikes_in)
        weights = [beta ** (steps - 1 - t) for t in range(steps)]
        # Summed in the spikes' dtype: under bf16 the convolution rounds its input to bfloat16
        # anyway, and a float32 sum with its casts took 2.3x as long.
        summed = spikes_in[0] * weights[0]
        for spikes, weight in zip(spikes_in[1:], weights[1:], strict=True):
            summed = torch.add(summed, spikes, alpha=weight)
        out = F.conv_transpose2d(
            summed,
            deconv.weight,
            None,
            stride=deconv.stride,
            padding=deconv.padding,
            output_padding=deconv.output_padding,
        )
        return out + deconv.bias.view(1, -1, 1, 1) * sum(weights)

    # -- engines ------------------------------------------------------------------------------

    def _forward_fused(
        self, images: torch.Tensor, record: dict[str, list[torch.Tensor]] | None = None
    ) -> AutoencoderOutput:
        """The fused engine; ``record``, when given, receives each spiking layer's per-step
        input currents (bias excluded; one tensor for EC_Lk1's static input)."""
        cfg, bias = self.config, self.params.bias
        # Spikes in the type the next convolution computes in: no cast pass between layers.
        spike_dtype = torch.bfloat16 if cfg.precision == "bf16" else images.dtype
        spikes: dict[str, tuple[torch.Tensor, ...]] = {}
        layer_in: tuple[torch.Tensor, ...] | None = None
        for name in SPIKING_LAYERS:
            if layer_in is None and images.dim() == STREAM_DIMS:
                currents = self._currents(name, tuple(images.unbind(1)))
            elif layer_in is None:
                currents = [self._input_current(images)]
            else:
                currents = self._currents(name, layer_in)
            if record is not None:
                record[name] = list(currents)
            neuron = self.neuron[name]
            layer_in = spike_train(
                currents,
                cfg.num_steps,
                beta=neuron.beta,
                alpha=neuron.alpha if name in SYNAPTIC_LAYERS else None,
                threshold=neuron.threshold,
                bias=bias,
                surrogate_alpha=cfg.surrogate_alpha,
                spike_dtype=spike_dtype,
                kernel=cfg.neuron_kernel,
            )
            spikes[name] = layer_in
        assert layer_in is not None
        return AutoencoderOutput(self._readout(layer_in), spikes)

    def _forward_snntorch(self, images: torch.Tensor) -> AutoencoderOutput:
        steps, bias = self.config.num_steps, self.params.bias
        state: dict[str, NeuronState] = dict.fromkeys(LAYER_NAMES)
        records: dict[str, list[torch.Tensor]] = {name: [] for name in LAYER_NAMES}
        mem_out = images
        stream = images.dim() == STREAM_DIMS
        for step in range(steps):
            x = images[:, step] if stream else images
            for name in LAYER_NAMES:
                if name == "DC_Lk1":
                    cur = x.unflatten(1, (ENCODER_CHANNELS[-1], BOTTLENECK_SIDE_PX, -1))
                else:
                    if name == "EC_Lk2":
                        x = x.flatten(1)
                    cur = self.synapse[name](x)
                    if name in self.norm:
                        cur = self._normalize(name, cur, step)
                layer_bias = 0.0 if name == READOUT_LAYER else bias
                x, state[name] = snntorch_step(self.neuron[name], cur, state[name], layer_bias)
                records[name].append(x)
                mem_out = state[name][-1]
        spikes = {name: tuple(records[name]) for name in SPIKING_LAYERS}
        return AutoencoderOutput(mem_out, spikes)

    def forward(self, images: torch.Tensor, engine: str | None = None) -> AutoencoderOutput:
        """Images (batch, 1, 32, 32), the same at every step, or an input stream (batch,
        num_steps, 1, 32, 32) in -> reconstruction (batch, 1, 32, 32) and per-layer spike
        trains."""
        engine = engine or self.engine
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if images.dim() == STREAM_DIMS and images.shape[1] != self.config.num_steps:
            raise ValueError(
                f"an input stream needs one frame per step: got {images.shape[1]} frames for "
                f"num_steps {self.config.num_steps}"
            )
        if images.dim() not in (STREAM_DIMS - 1, STREAM_DIMS):
            raise ValueError(f"images must be 4-D or a 5-D input stream, got {images.dim()}-D")
        with self.autocast(images):
            out = (
                self._forward_fused(images) if engine == "fused" else self._forward_snntorch(images)
            )
        # The loss and every metric see float32 whatever the convolutions computed in.
        out.reconstruction = out.reconstruction.to(images.dtype)
        return out

    def autocast(self, images: torch.Tensor) -> torch.autocast:
        """The autocast context of ``config.precision`` for ``images``' device."""
        return torch.autocast(
            images.device.type,
            dtype=torch.bfloat16,
            enabled=self.config.precision == "bf16",
        )


@torch.no_grad()
def effective_bias(model: SpikingAutoencoder, images: torch.Tensor) -> dict[str, dict[str, float]]:
    """Per spiking layer: the mapped bias against that layer's input current on ``images``.

    The network runs as it is (call ``model.eval()`` first for evaluation statistics). Values,
    threshold units per step: ``bias``; ``input_mean`` and ``input_sd`` of the input current
    (bias excluded) over images, neurons and steps; ``bias_over_input_sd`` (None when the
    current does not vary), how large the mapped drive is next to the input it competes with
    (BatchNorm's trainable scale can shrink the input or blow it up); ``resting_drive``, the
    membrane's fixed point at zero input ``bias / (1 - beta)`` over the threshold (None for
    beta 1), above 1 a layer that fires without input.
    """
    record: dict[str, list[torch.Tensor]] = {}
    with model.autocast(images):
        model._forward_fused(images, record)
    bias = float(model.params.bias)
    out = {}
    for name in SPIKING_LAYERS:
        current = torch.stack(record[name]).double()
        sd = float(current.std(unbiased=False))
        neuron = model.neuron[name]
        beta = min(max(float(neuron.beta), 0.0), 1.0)
        threshold = float(neuron.threshold)
        out[name] = {
            "bias": bias,
            "input_mean": float(current.mean()),
            "input_sd": sd,
            "bias_over_input_sd": bias / sd if sd > 0 else None,
            "resting_drive": bias / (1.0 - beta) / threshold if beta < 1.0 else None,
        }
    return out
