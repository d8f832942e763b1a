"""Generator of tests/data/stats/reliability_synthetic.csv (run once; the CSV is committed).

Three synthetic one-factor scales, answers on their own scale turned into keyed 0-100 scores
(as survey.analysis does), with some missing answers. Seed 20261125.
    python tests/data/stats/make_reliability_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261125


def likert(latent: np.ndarray, loading: float, rng: np.random.Generator, points: int) -> np.ndarray:
    noise = rng.normal(size=latent.shape) * np.sqrt(1 - loading**2)
    x = loading * latent + noise
    cuts = np.quantile(x, np.linspace(0, 1, points + 1)[1:-1] + rng.uniform(-0.05, 0.05, points - 1))
    return np.searchsorted(np.sort(cuts), x) + 1  # 1..points


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    columns = {}
    # a: six agreement statements (1-5), n = 400, one of them traditional-keyed, 5 % missing
    n = 400
    f = rng.normal(size=n)
    for i, lam in enumerate([0.75, 0.65, 0.55, 0.6, 0.45, 0.3], start=1):
        raw = likert(f, lam, rng, 5)
        if i == 5:  # traditional-keyed: answered the other way round, scored mirrored
            raw = 6 - raw
            score = 100 - (raw - 1) / 4 * 100
        else:
            score = (raw - 1) / 4 * 100
        score = score.astype(float)
        score[rng.uniform(size=n) < 0.05] = np.nan
        columns[f"a{i}"] = score
    # b: four weak statements (1-5), n = 400 rows but only the first 90 answered
    f = rng.normal(size=n)
    for i, lam in enumerate([0.5, 0.4, 0.35, 0.3], start=1):
        score = ((likert(f, lam, rng, 5) - 1) / 4 * 100).astype(float)
        score[90:] = np.nan
        columns[f"b{i}"] = score
    # c: three 1-10 marks (werkgeluk), n = 400 rows, first 150 answered
    f = rng.normal(size=n)
    for i, lam in enumerate([0.85, 0.8, 0.7], start=1):
        score = ((likert(f, lam, rng, 10) - 1) / 9 * 100).astype(float)
        score[150:] = np.nan
        columns[f"c{i}"] = score
    return pd.DataFrame(columns).round(4)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("reliability_synthetic.csv"), index=False, na_rep="NA")
