"""Generate a churn-like table with numeric and categorical columns and missing values."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank-transfer", "electronic-check", "mailed-check"]
REGIONS = ["north", "south", "east", "west"]


def churn_frame(rows: int, seed: int = 0, missing: float = 0.05) -> pd.DataFrame:
    """A reproducible table whose `churned` column (yes/no) depends on the other columns."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, rows, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 72, rows)
    charges = rng.normal(65, 20, rows).clip(15, 130).round(2)
    calls = rng.poisson(1.5, rows)
    score = (
        -1.0
        + 1.4 * (contract == "month-to-month")
        - 0.04 * tenure
        + 0.02 * (charges - 65)
        + 0.45 * calls
        + rng.normal(0, 0.5, rows)
    )
    frame = pd.DataFrame(
        {
            "customer_age": rng.integers(18, 85, rows),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "contract": contract,
            "payment_method": rng.choice(PAYMENTS, rows),
            "region": rng.choice(REGIONS, rows),
            "churned": np.where(score > 0, "yes", "no"),
        }
    )
    for column in ("monthly_charges", "payment_method"):
        frame.loc[rng.random(rows) < missing, column] = np.nan
    return frame


if __name__ == "__main__":
    churn_frame(int(sys.argv[1]) if len(sys.argv) > 1 else 500).to_csv(sys.stdout, index=False)
