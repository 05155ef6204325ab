"""A customer-churn table shaped like a real subscription business's export.

Churn depends on contract, tenure, charges, support calls and payment method
through a logistic model, with a small, deliberate dependence on the
sensitive column ``gender`` so that fairness checks have something to find.
Seeded, so the same seed gives the same bytes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np


def customers_table(rows: int = 5_000, *, seed: int = 7) -> Any:
    """A ``pyarrow.Table`` of ``rows`` customers with a ``churned`` label."""
    import pyarrow as pa

    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male", "nonbinary"], size=rows, p=[0.49, 0.49, 0.02])
    region = rng.choice(["EU", "NA", "APAC", "LATAM"], size=rows, p=[0.35, 0.35, 0.2, 0.1])
    contract = rng.choice(["monthly", "annual", "two_year"], size=rows, p=[0.55, 0.3, 0.15])
    plan = rng.choice(["basic", "standard", "premium"], size=rows, p=[0.45, 0.4, 0.15])
    payment = rng.choice(["card", "bank_transfer", "invoice", "paypal"], size=rows, p=[0.45, 0.25, 0.1, 0.2])
    age = np.clip(rng.normal(42, 13, size=rows), 18, 85).round().astype(np.int64)
    tenure = np.clip(rng.gamma(2.0, 14.0, size=rows), 1, 120).round().astype(np.int64)
    base = np.select([plan == "basic", plan == "standard"], [24.0, 49.0], 89.0)
    monthly = np.round(base * rng.lognormal(0, 0.15, size=rows), 2)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.0, size=rows), 2)
    calls = rng.poisson(1.2 + 1.5 * (contract == "monthly"), size=rows).astype(np.int64)

    logit = (
        -1.6
        + 1.4 * (contract == "monthly")
        - 0.9 * (contract == "two_year")
        - 0.025 * tenure
        + 0.012 * (monthly - 50)
        + 0.35 * calls
        + 0.5 * (payment == "invoice")
        + 0.25 * (gender == "male")
        - 0.008 * (age - 42)
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))

    # A few realistic blemishes: missing total charges for brand-new customers.
    total_masked = np.where((tenure <= 1) & (rng.random(rows) < 0.5), np.nan, total)
    start = date(2024, 1, 1)
    signup = [start + timedelta(days=int(d)) for d in rng.integers(0, 700, size=rows)]
    return pa.table(
        {
            "customer_id": pa.array([f"C{n:06d}" for n in range(1, rows + 1)]),
            "signup_date": pa.array(signup, type=pa.date32()),
            "age": pa.array(age),
            "gender": pa.array(gender),
            "region": pa.array(region),
            "plan": pa.array(plan),
            "contract": pa.array(contract),
            "payment_method": pa.array(payment),
            "tenure_months": pa.array(tenure),
            "monthly_charges": pa.array(monthly),
            "total_charges": pa.array(total_masked, from_pandas=True),
            "support_calls": pa.array(calls),
            "churned": pa.array(churned),
        }
    )
