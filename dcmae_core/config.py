"""Configuration: nested dataclasses, presets as TOML files, strict `section.key=value` overrides.

Resolution order: dataclass defaults < preset file (dcmae_core/resources/configs/NAME.toml) < command-line overrides.
Unknown sections or keys and values of the wrong type are errors that list what is valid.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from dcmae_core.resources import bundled

PRESET_DIR = bundled("configs")


class ConfigError(ValueError):
    """A preset or override that does not fit the config schema."""


@dataclass
class DataConfig:
    root: str = ""  # prepared dataset cache folder (from `prepare`); empty = none chosen yet
    split: Literal["xsub", "xview", "xset"] = "xsub"  # benchmark split; NTU-60 vs 120 comes from the data
    num_frames: int = 120  # frames per sample after crop-resize (SPEC §2.5)
    crop_min: float = 0.5  # train crop keeps a random p*L frames, p ~ U(crop_min, crop_max)
    crop_max: float = 1.0  # upper end of that ratio
    crop_min_frames: int = 64  # train crop never keeps fewer frames than this (or L if shorter)
    test_crop: float = 0.95  # test crop: centred window of this share of L
    # "resize": crop then resample to num_frames (SPEC §2.5, the paper's; what classification uses).
    # "native": num_frames consecutive frames at the recording's own rate (a random window in training, the
    # centred one in testing; short clips hold their last frame), so the model learns motion at the speed the
    # app and `reconstruct` show it, where it fills hidden joints window by window.
    window: Literal["resize", "native"] = "resize"
    # Classification input: turn each clip about the vertical axis so that the person faces the camera
    # (transforms.face_front), in finetuning, evaluation and the app alike; pretraining and fills are unchanged.
    # The app and bench/bench_real_classification.py measure the turn on the clip as it reaches the classifier
    # (hidden joints excluded); `evaluate --occlusion` turns the clean clip before its masks hide joints.
    face_front: bool = False
    rotate: float = 0.3  # train-time random rotation, radians, U(-rotate, rotate) about x, y, z; 0 = off
    # Train-time random scale of each axis by U(1 - scale, 1 + scale) (bodies of other heights and builds: the
    # cross-subject splits meet people no training clip showed); 0 = off.
    scale: float = 0.0
    label_ratio: float = 1.0  # share of the training split with labels (few-label protocol: 0.05, 0.10)
    label_seed: int = 0  # seed of the few-label draw
    stratified: bool = False  # draw the few-label subset per class
    val_ratio: float = 0.0  # held-out slice of the training split used as validation; 0 = evaluate on test
    copy_single_actor: bool = False  # copy actor 1 into the empty second slot (the field's NTU-120 script)
    num_workers: int = 0  # DataLoader worker processes


@dataclass
class ModelConfig:
    tuple_len: int = 6  # frames per STTA tuple (tokens per tuple = tuple_len * V)
    stem_dim: int = 64  # width of the 1x1 input map
    encoder_dims: list[int] = field(
        default_factory=lambda: [64, 64, 128, 128, 256, 256, 256, 256]
    )  # output width of each STTA encoder block (input of block i = output of block i-1)
    encoder_qk_dims: list[int] = field(
        default_factory=lambda: [16, 16, 32, 32, 64, 64, 64, 64]
    )  # query/key width per head of each encoder block
    encoder_heads: int = 3  # heads of every STTA block
    decoder_depth: int = 9  # CSTTA blocks (paper Table 6: 5/7/9/11)
    decoder_dim: int = 256  # decoder width (paper Table 9: 128/256/512)
    decoder_heads: int = 8  # heads of the spatio-temporal cross-attention
    decoder_qk_dim: int = 16  # query/key width per head of the STTA block inside each CSTTA block
    decoder_stta_heads: int = 1  # heads of the decoder's STTA blocks (slimmer than the encoder's: ~14 M)
    decoder_token_kernel: int = 1  # token-axis conv of the decoder's STTA blocks (encoder: 5, STTFormer)
    # "slim": the decoder's STTA blocks as the three keys above set them (paper preset: 14.46 M, the paper's
    # Table 2 says 14 M). "full": the encoder's STTA block at decoder width (encoder_heads heads, the (1,5)
    # token conv, the encoder's query/key-to-width ratio), which the keys above then do not set; the paper's
    # text describes this block, but at width 256 the model is 23.9 M (docs/bench_model.md). SkeletonMAE's
    # decoder is 8 such blocks (experiments.SKELETONMAE).
    decoder_stta: Literal["slim", "full"] = "slim"
    cross_attention: bool = True  # False: decoder blocks are STTA only (paper Table 5)
    # "interp": the decoder also gets, at every removed entry, the joint's linear interpolation in time, whether
    # it has one and how far the nearest visible frame is, and predicts x_0 as that interpolation plus a
    # correction: the model starts from what interpolation knows (docs/reconstruction.md). "none": the paper.
    fill_prior: Literal["none", "interp"] = "none"
    # With fill_prior: a joint visible in no frame of the window starts, instead of at the data's mean, at its
    # parent's prior plus a learned offset per joint (chained down the skeleton: a hidden arm hangs from its
    # shoulder, hidden legs from the hips). Needs the layout's parents (the model gets them from the data).
    skeleton_prior: bool = False
    # With fill_prior, > 0 adds to the paper's MSE the error relative to interpolation's, |e|² / (|e_interp|² +
    # this²) (standardised units; 0.03 ~ 1 cm; objectives.relative_masked_mse): the MSE drives the long gaps where
    # interpolation knows nothing, the relative term keeps the short gaps it fills within a centimetre. 0: MSE only.
    relative_loss_floor: float = 0.0
    diffusion: bool = True  # False: masked positions get a mask token, no timestep (SkeletonMAE)
    # True: the timestep embedding is also added to the cross-attention memory, so K/V depend on t (the first
    # implementation; the paper's eq. 5-6 take K/V from the encoder's features). Kept for old checkpoints.
    timestep_in_memory: bool = False
    # Pretraining: temporal cross-attention gives no weight to frames whose memory is padding (the token of
    # a dropped frame, a frame where the person is absent), and absent frames get no noise and no loss.
    # The paper leaves both open (it drops frames and zero-pads absent persons, nothing more). False: the first
    # implementation (every frame a key, absent frames noised and counted), kept for old checkpoints.
    padding_mask: bool = True
    head_dropout: float = 0.0  # dropout before the linear classifier
    # Recompute each decoder block's activations in the backward pass instead of keeping them: pretraining
    # memory falls several-fold for ~a third more time (docs/benchmarks.md). BatchNorm running statistics are
    # then updated twice per step (forward and recompute), which only changes their averaging rate.
    checkpoint_decoder: bool = False


@dataclass
class MaskConfig:
    frame_ratio: float = 0.5  # Mt: share of frames dropped in pretraining
    joint_ratio: float = 0.4  # Mj: share of joints masked in every kept frame
    occlusion: float = 0.1  # missing-joint protocol ratio r used by default in reconstruct
    # Pretraining beside the paper's Mt/Mj mask: with probability pattern_prob a batch is masked instead with
    # one of these named occlusion patterns (dcmae_core/occlusion.py; drawn uniformly per batch, all frames kept).
    pattern_prob: float = 0.0
    patterns: str = "limb_span,frame_burst,limb_clip,lower_body,random:0.1"


@dataclass
class DiffusionConfig:
    num_steps: int = 1000  # T, diffusion steps (paper Table 8: 500/750/1000/1250)
    schedule: Literal["linear", "cosine"] = "linear"  # beta schedule
    beta_start: float = 1e-4  # linear schedule, first beta
    beta_end: float = 0.02  # linear schedule, last beta
    # "plain": β from beta_start to beta_end over T steps, as the paper (Table 8 varies T, so T changes the
    # noise; with T below ~400, t = T is not pure noise). "rescaled": the range scaled by 1000/T
    # (improved-diffusion): every T gives nearly the same noise. Same schedule at T = 1000.
    beta_scaling: Literal["plain", "rescaled"] = "plain"


@dataclass
class OptimConfig:
    name: Literal["sgd", "adamw"] = "sgd"  # optimiser (SGD is the paper's; AdamW is MAMP's)
    momentum: float = 0.9  # SGD momentum
    pretrain_lr: float = 0.001  # base learning rate of pretraining (paper §2.2)
    pretrain_weight_decay: float = 0.0002  # weight decay of pretraining
    finetune_lr: float = 0.01  # base learning rate of finetuning
    finetune_weight_decay: float = 0.0004  # weight decay of finetuning
    warmup_epochs: float = 0.0  # linear warm-up before the cosine decay (per iteration)
    min_lr: float = 0.0  # floor of the cosine decay
    grad_clip: float = 0.0  # clip the global gradient norm to this; 0 = off


@dataclass
class TrainConfig:
    pretrain_epochs: int = 90  # pretraining epochs
    finetune_epochs: int = 90  # finetuning epochs
    batch_size: int = 32  # samples per step (per process in distributed runs)
    eval_batch_size: int = 64  # samples per step when evaluating
    seed: int = 0  # seeds python, numpy and torch
    device: str = "auto"  # "auto" (CUDA if present, else CPU), "cpu", "cuda", "cuda:1", ...
    amp: Literal["auto", "bf16", "fp16", "off"] = "auto"  # autocast on CUDA; auto = bf16 where supported
    compile: bool = False  # unused, kept so that saved configs load: see compile_mode
    # torch.compile in pretraining and finetuning (inductor, CPU or CUDA): "blocks" compiles each STTA / CSTTA
    # block (short compile, same weights and checkpoints), "full" the encoder and decoder whole. Opt-in: on a
    # CPU both made the step slower (docs/benchmarks.md); meant for CUDA.
    compile_mode: Literal["off", "blocks", "full"] = "off"
    log_every: int = 20  # iterations between metric lines
    eval_every: int = 1  # epochs between evaluations (finetuning)
    checkpoint_every: int = 0  # also save `last` every N iterations (0 = each epoch only)
    # > 0: keep an exponential moving average of the weights with this decay per step (0.99 ~ the last 100 steps);
    # evaluation, `best` and the checkpoints' weights are the average (training/weight_average.py). 0 = off.
    ema: float = 0.0
    # Finetuning cross-entropy against targets with this share of the probability spread evenly over all classes
    # (label smoothing, as torch's cross_entropy does it; 0 = the plain cross-entropy).
    label_smoothing: float = 0.0


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


SECTIONS = tuple(f.name for f in dataclasses.fields(Config))


def _field_types(section_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(section_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(section_cls)}


def _coerce(value: Any, typ: Any, where: str) -> Any:
    """Check/convert `value` (from TOML, JSON or a command-line string) to the annotated type."""
    origin = get_origin(typ)
    if origin is Literal:
        choices = get_args(typ)
        if value not in choices:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}")
        return value
    if origin is list:
        (item,) = get_args(typ)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = json.loads(text)
            else:
                value = [v for v in text.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, item, where) for v in value]
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {typ}")  # pragma: no cover - schema error


def apply_dict(cfg: Config, values: dict[str, Any], source: str = "config") -> Config:
    """Set fields from a nested dict {section: {key: value}}; unknown names are errors."""
    for section, entries in values.items():
        if section not in SECTIONS:
            raise ConfigError(f"{source}: unknown section {section!r}; valid: {', '.join(SECTIONS)}")
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: section {section!r} must be a table")
        sub = getattr(cfg, section)
        types = _field_types(type(sub))
        for key, value in entries.items():
            if key not in types:
                raise ConfigError(
                    f"{source}: unknown key {section}.{key}; valid keys of [{section}]: {', '.join(types)}"
                )
            setattr(sub, key, _coerce(value, types[key], f"{source}: {section}.{key}"))
    return cfg


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    """Apply `section.key=value` strings."""
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        name, value = item.split("=", 1)
        section, key = name.strip().split(".", 1)
        apply_dict(cfg, {section: {key: value}}, source="override")
    validate(cfg)
    return cfg


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_preset(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESET_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(f"preset {name_or_path!r} not found; presets: {', '.join(list_presets())}")
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"preset {path}: {exc}") from exc


def build_config(preset: str | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults < preset < overrides."""
    cfg = Config()
    if preset:
        apply_dict(cfg, load_preset(preset), source=f"preset {preset}")
    apply_overrides(cfg, overrides or [])
    validate(cfg)
    return cfg


# Keys added after configs had been saved without them, with the value that keeps what such a saved config
# (a bundled checkpoint, a run folder to resume) computed; a new config gets the dataclass default (issue 12).
LEGACY_VALUES: dict[str, dict[str, Any]] = {
    "diffusion": {"beta_scaling": "rescaled"},
    "model": {"timestep_in_memory": True, "padding_mask": False},
}


def config_from_dict(values: dict[str, Any]) -> Config:
    """Rebuild a Config saved with `to_dict` (e.g. from a checkpoint or config.json); a key the saved config
    lacks takes its LEGACY_VALUES value if it has one, else the default."""
    legacy = {
        section: {k: v for k, v in keys.items() if k not in values[section]}
        for section, keys in LEGACY_VALUES.items()
        if isinstance(values.get(section), dict)
    }
    cfg = apply_dict(apply_dict(Config(), legacy, source="legacy values"), values, source="saved config")
    validate(cfg)
    return cfg


def _problems(cfg: Config) -> list[str]:
    """Every value that no run can use, as plain phrases (checked in an order that never divides by zero)."""
    d, m, k, f, o, t = cfg.data, cfg.model, cfg.mask, cfg.diffusion, cfg.optim, cfg.train
    out: list[str] = []

    def need(ok: bool, text: str) -> None:
        if not ok:
            out.append(text)

    for name in (
        "tuple_len",
        "stem_dim",
        "encoder_heads",
        "decoder_depth",
        "decoder_dim",
        "decoder_heads",
        "decoder_qk_dim",
        "decoder_stta_heads",
        "decoder_token_kernel",
    ):
        need(getattr(m, name) >= 1, f"model.{name} must be at least 1, got {getattr(m, name)}")
    need(bool(m.encoder_dims), "model.encoder_dims must name at least one block")
    need(
        len(m.encoder_dims) == len(m.encoder_qk_dims),
        "model.encoder_dims and model.encoder_qk_dims must have the same length",
    )
    need(
        all(v >= 1 for v in [*m.encoder_dims, *m.encoder_qk_dims]),
        "model.encoder_dims and model.encoder_qk_dims must all be at least 1",
    )
    if m.decoder_dim >= 1 and m.decoder_heads >= 1:
        need(m.decoder_dim % m.decoder_heads == 0, "model.decoder_dim must be divisible by model.decoder_heads")
    need(m.relative_loss_floor >= 0, "model.relative_loss_floor must be 0 (off) or positive")
    need(0.0 <= m.head_dropout < 1.0, f"model.head_dropout must lie in [0, 1), got {m.head_dropout}")

    need(d.num_frames >= 1, f"data.num_frames must be at least 1, got {d.num_frames}")
    if m.tuple_len >= 1 and d.num_frames >= 1:
        need(d.num_frames % m.tuple_len == 0, "data.num_frames must be a multiple of model.tuple_len")
    need(
        0.0 < d.crop_min <= d.crop_max <= 1.0,
        f"data.crop_min and data.crop_max must satisfy 0 < crop_min <= crop_max <= 1, got {d.crop_min}, {d.crop_max}",
    )
    need(d.crop_min_frames >= 1, f"data.crop_min_frames must be at least 1, got {d.crop_min_frames}")
    need(0.0 < d.test_crop <= 1.0, f"data.test_crop must lie in (0, 1], got {d.test_crop}")
    need(d.rotate >= 0, f"data.rotate must be 0 (off) or positive, got {d.rotate}")
    need(0 <= d.scale < 1, f"data.scale must lie in [0, 1), got {d.scale}")
    need(0.0 < d.label_ratio <= 1.0, "data.label_ratio must lie in (0, 1]")
    need(0.0 <= d.val_ratio < 1.0, f"data.val_ratio must lie in [0, 1), got {d.val_ratio}")
    need(d.num_workers >= 0, f"data.num_workers must be 0 or more, got {d.num_workers}")

    need(0.0 <= k.frame_ratio < 1.0 and 0.0 <= k.joint_ratio < 1.0, "mask ratios must lie in [0, 1)")
    need(0.0 <= k.occlusion <= 1.0, f"mask.occlusion must lie in [0, 1], got {k.occlusion}")
    need(0.0 <= k.pattern_prob <= 1.0, "mask.pattern_prob must lie in [0, 1]")

    need(f.num_steps >= 1, "diffusion.num_steps must be at least 1")
    if f.schedule == "linear":  # given for T = 1000; scaled by 1000 / T and capped at 0.999 (model/diffusion.py)
        need(
            0.0 < f.beta_start <= f.beta_end < 1.0,
            f"diffusion.beta_start and beta_end must satisfy 0 < beta_start <= beta_end < 1, got {f.beta_start}, "
            f"{f.beta_end}",
        )

    for name in (
        "pretrain_lr",
        "finetune_lr",
        "pretrain_weight_decay",
        "finetune_weight_decay",
        "warmup_epochs",
        "min_lr",
        "grad_clip",
    ):
        need(getattr(o, name) >= 0, f"optim.{name} must be 0 or positive, got {getattr(o, name)}")
    need(0.0 <= o.momentum < 1.0, f"optim.momentum must lie in [0, 1), got {o.momentum}")

    for name in ("pretrain_epochs", "finetune_epochs", "batch_size", "eval_batch_size", "log_every", "eval_every"):
        need(getattr(t, name) >= 1, f"train.{name} must be at least 1, got {getattr(t, name)}")
    need(0.0 <= t.ema < 1.0, f"train.ema must lie in [0, 1) (0 = off), got {t.ema}")
    need(0.0 <= t.label_smoothing < 1.0, f"train.label_smoothing must lie in [0, 1) (0 = off), got {t.label_smoothing}")
    need(
        t.checkpoint_every >= 0, f"train.checkpoint_every must be 0 (each epoch only) or more, got {t.checkpoint_every}"
    )
    return out


def validate(cfg: Config) -> None:
    """One pass over the whole config before any work: every problem found, in one line."""
    problems = _problems(cfg)
    if problems:
        raise ConfigError("; ".join(problems))
