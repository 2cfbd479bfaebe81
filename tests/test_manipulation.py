"""The study's manipulation check (``report.manipulation``): a pretext task is learned on a
backbone when its held-out skill's 95% interval over seeds lies above 0."""

import numpy as np
import pandas as pd
import pytest

from pde_lib.report.manipulation import (CHECK_COLUMNS, LEARNED, NOT_CHECKABLE, NOT_LEARNED, label_rows,
                                         manipulation_check)


def _runs(model, strategy, skills, metric="accuracy", augmentation="none", fraction="1"):
    return pd.DataFrame({"model": model, "backbone": model, "strategy": strategy, "augmentation": augmentation,
                         "pretrain_fraction": fraction, "seed": range(len(skills)), "holdout_metric": metric,
                         "holdout_skill": skills, "cell_id": [f"{model}__{strategy}__s{i}" for i in range(len(skills))]})


def test_labels_follow_the_interval_of_the_mean_skill():
    pretext = pd.concat([
        _runs("fno2d", "binary", [0.30, 0.35, 0.28, 0.33]),              # clearly above chance
        _runs("fno2d", "jigsaw", [0.02, -0.03, 0.01, -0.01]),            # around 0
        _runs("unet", "jigsaw", [0.20, -0.10, 0.25, -0.05]),             # mean > 0, interval reaches 0
        _runs("fno2d", "picl", [np.nan] * 4, metric=None),               # no reference
        _runs("fno2d", "binary", [-0.9] * 4, augmentation="noise"),      # augmented cells: not counted
        _runs("fno2d", "binary", [-0.9] * 4, fraction="1of9"),           # smaller pretraining sets: not counted
    ])
    check = manipulation_check(pretext).set_index(["model", "strategy"])
    assert list(check.reset_index().columns) == CHECK_COLUMNS
    assert check.loc[("fno2d", "binary"), "pretext"] == LEARNED
    assert check.loc[("fno2d", "binary"), "skill"] == pytest.approx(0.315)
    assert check.loc[("fno2d", "binary"), "n_seeds"] == 4
    assert check.loc[("fno2d", "jigsaw"), "pretext"] == NOT_LEARNED
    assert check.loc[("unet", "jigsaw"), "pretext"] == NOT_LEARNED
    assert check.loc[("unet", "jigsaw"), "skill"] > 0 and check.loc[("unet", "jigsaw"), "ci_low"] < 0
    assert check.loc[("fno2d", "picl"), "pretext"] == NOT_CHECKABLE and check.loc[("fno2d", "picl"), "n_seeds"] == 0


def test_one_seed_cannot_show_learning_and_rows_get_their_label():
    check = manipulation_check(pd.concat([_runs("fno2d", "coefficient", [0.9], metric="loss"),
                                          _runs("fno2d", "derivative", [0.7, 0.8, 0.75], metric="loss")]))
    labels = dict(zip(check.strategy, check.pretext))
    assert labels == {"coefficient": NOT_CHECKABLE, "derivative": LEARNED}
    family = pd.DataFrame({"model": ["fno2d", "fno2d", "fno2d", "unet"],
                           "strategy": ["none", "derivative", "coefficient", "derivative"], "mean": [0, 5, 1, 2]})
    assert label_rows(family, check)["pretext"].tolist() == ["-", LEARNED, NOT_CHECKABLE, NOT_CHECKABLE]
