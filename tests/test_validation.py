"""One validation pass before any work: a config or CLI value no run can use is one line and exit 1 (these
were ZeroDivisionError tracebacks, or accepted and did nothing useful)."""

from __future__ import annotations

import pytest

from dcmae_core.config import ConfigError, build_config
from dcmae_core.train import main
from tests.shared_data import NTU_SAMPLES

FILE = NTU_SAMPLES / "S001C003P008R002A058.skeleton"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize(
    "override, words",
    [
        ("model.tuple_len=0", "model.tuple_len must be at least 1"),  # was ZeroDivisionError
        ("model.decoder_heads=0", "model.decoder_heads must be at least 1"),  # was ZeroDivisionError
        ("model.stem_dim=0", "model.stem_dim must be at least 1"),
        ("model.encoder_heads=0", "model.encoder_heads must be at least 1"),
        ("data.test_crop=5", "data.test_crop must lie in (0, 1]"),
        ("diffusion.beta_end=2", "beta_end < 1"),
        ("train.pretrain_epochs=0", "train.pretrain_epochs must be at least 1"),
        ("mask.frame_ratio=1.5", "mask ratios must lie in [0, 1)"),
    ],
)
def test_bad_config_values_stop_before_any_work(tmp_path, capsys, override, words):
    out = tmp_path / "run"
    assert main(["pretrain", "--preset", "tiny", "--set", override, "--data", str(tmp_path), "--out", str(out)]) == 1
    assert words in _one_line(capsys)
    assert not out.exists()  # nothing made


def test_every_problem_of_a_config_in_one_message():
    with pytest.raises(ConfigError) as info:
        build_config("tiny", ["model.tuple_len=0", "data.test_crop=5"])
    assert "tuple_len" in str(info.value) and "test_crop" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_epochs_below_one_are_refused(tmp_path, capsys, epochs):
    assert (
        main(
            [
                "finetune",
                "--preset",
                "tiny",
                "--epochs",
                epochs,
                "--data",
                str(tmp_path),
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 1
    )
    assert "train.finetune_epochs must be at least 1" in _one_line(capsys)


def test_profile_with_zero_joints_is_a_message(capsys):
    assert main(["profile", "--preset", "tiny", "--joints", "0", "--no-speed"]) == 1
    assert "--joints" in _one_line(capsys)


def test_live_streams_refuses_a_negative_timeout(capsys):
    assert main(["live-streams", "--timeout", "-1"]) == 1
    assert "--timeout" in _one_line(capsys)


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    from dcmae_core.checkpoint import write_untrained_checkpoint

    return write_untrained_checkpoint(tmp_path_factory.mktemp("ck") / "u.pt")


@pytest.mark.parametrize(
    "mask, words",
    [
        ("frames:5-2", "must be A-B with 0 <= A <= B"),
        ("frames:500-600", "below the clip's 70 frames"),
        ("", "the mask spec is empty"),
        (" ; ", "the mask spec is empty"),
        ("person:2;frames:0-0;joints:1", None),  # valid: removes one joint of one frame
    ],
)
def test_reconstruct_mask_values(tmp_path, capsys, untrained, mask, words):
    out = tmp_path / "rec.npy"
    code = main(
        ["reconstruct", str(FILE), "-o", str(out), "--mask", mask, "--checkpoint", str(untrained), "--device", "cpu"]
    )
    if words is None:
        assert code == 0 and out.exists()
        return
    assert code == 1 and words in _one_line(capsys) and not out.exists()


def test_reconstruct_output_that_is_a_folder_is_a_message(tmp_path, capsys, untrained):
    assert main(["reconstruct", str(FILE), "-o", str(tmp_path), "--checkpoint", str(untrained)]) == 1
    assert "is a folder" in _one_line(capsys)  # was IsADirectoryError after the whole reconstruction
