"""What the commands print: errors and losses with 4 significant digits (1.0004 is "1.000", never
"1", which reads as exact), in the CLI summaries and in the training progress bars."""

from __future__ import annotations

import re

import pytest

from pde_lib.cli import main
from pde_lib.utils.formatting import sig


@pytest.mark.parametrize("value, text", [
    (1.0004, "1.000"), (1.0, "1.000"), (0.012345, "0.01235"), (328.44, "328.4"), (89.0, "89.00"),
    (1234.4, "1234"), (12345.6, "1.235e+04"), (1.5e-6, "1.500e-06"), (-0.5, "-0.5000"),
    (float("nan"), "nan"), (float("inf"), "inf"),
])
def test_sig_shows_four_significant_digits(value, text):
    assert sig(value) == text


def test_sig_digits():
    assert sig(1.0004, 6) == "1.00040" and sig(2 / 3, 2) == "0.67"


def _train_metrics(task: str) -> dict:
    m = {"model": "fno2d", "task": task, "n_train": 8, "n_train_augmented": 8, "n_params": 1234,
         "train_loss": [1.5, 1.2], "wall_time_s": 0.5, "best_epoch": 2, "valid_rel_l2": 0.99996,
         "test_rel_l2": 1.0004, "test_copy_last_rel_l2": 0.25}
    if task == "next_step":
        m.update({"test_one_step_rel_l2": 0.1, "rollout_frames": [8, 31], "test_rollout_per_step": [0.1, 2.0]})
    return m


def _stand_in_files(folder, *names) -> list[str]:
    """Empty files standing in for data files (the run itself is replaced)."""
    for name in names:
        (folder / name).touch()
    return [str(folder / name) for name in names]


@pytest.mark.parametrize("task", ["fixed_future", "next_step"])
def test_train_prints_four_significant_digits(task, monkeypatch, capsys, tmp_path):
    import pde_lib.training

    monkeypatch.setattr(pde_lib.training, "run_training", lambda config: _train_metrics(task))
    files = _stand_in_files(tmp_path, "a.h5", "b.h5", "c.h5")  # the command checks they exist
    rc = main(["train", "--model", "fno2d", "--task", task, "--train", files[0], "--valid", files[1],
               "--test", files[2], "--out", str(tmp_path / "out"), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "valid rel L2 1.000\n" in out
    assert "test rel L2 1.000  (copy-last-frame baseline 0.2500)" in out
    if task == "next_step":
        assert "test one-step rel L2 0.1000; rollout error at frame 31: 2.000" in out


def test_pretrain_prints_four_significant_digits(monkeypatch, capsys, tmp_path):
    import pde_lib.pretraining

    metrics = {"strategy": "coefficient", "model": "fno2d", "n_train": 8, "n_train_augmented": 8,
               "n_holdout": 1, "n_params_backbone": 100, "n_params_head": 10, "epochs": 2,
               "wall_time_s": 0.5, "pretext_loss": [2.0, 1.0001], "classification": False}
    monkeypatch.setattr(pde_lib.pretraining, "run_pretraining", lambda config: metrics)
    rc = main(["pretrain", "--strategy", "coefficient", "--model", "fno2d",
               "--data", _stand_in_files(tmp_path, "a.h5")[0], "--out", str(tmp_path / "out"), "--no-progress"])
    assert rc == 0 and "pretext loss 2.000 -> 1.000\n" in capsys.readouterr().out


def _significant_digits(text: str) -> int:
    """Digits that count in a printed number: sign, point, exponent and leading zeros removed."""
    mantissa = text.lstrip("-").split("e")[0].replace(".", "")
    return len(mantissa.lstrip("0")) or len(mantissa)


def test_real_training_run_prints_four_significant_digits(tmp_path, capsys):
    """A real (tiny) `train` run: the summary lines and the progress bar's loss / valid error
    (tqdm writes to stderr) all carry 4 significant digits."""
    import torch

    from pde_lib.generation import GenerationParams, generate_dataset

    torch.set_num_threads(1)
    files = {}
    for split in ("train", "valid", "test"):
        files[split] = str(tmp_path / f"{split}.h5")
        generate_dataset(GenerationParams(pdes=["heat"], split=split, distribution="id", samples_per_pde=4,
                                          seed=0), files[split], progress=False)
    rc = main(["train", "--model", "fno2d", "--train", files["train"], "--valid", files["valid"],
               "--test", files["test"], "--pde", "heat", "--samples", "4", "--epochs", "2", "--batch-size", "2",
               "--model-kwargs", '{"width": 4, "modes": 2, "n_layers": 1, "projection_width": 4}',
               "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert rc == 0
    printed = re.findall(r"(?:rel L2|baseline) (-?[0-9.]+(?:e[-+][0-9]+)?)", captured.out)
    assert len(printed) == 3, captured.out
    bar = re.findall(r"(?:loss|valid)=(-?[0-9.]+(?:e[-+][0-9]+)?)", captured.err)
    assert len(bar) >= 4, captured.err  # loss and valid error, both epochs
    assert [_significant_digits(v) for v in printed + bar] == [4] * (len(printed) + len(bar))
