"""What a machine costs per hour: a setting, or a price table keyed by instance type.

The prices below are on-demand list prices (USD/hour, us-east-1 / us-central1,
2026) of common training machines; the ``hourly_price`` setting overrides
them, and an unknown instance type without a price gives no cost (never a
guess).
"""

from __future__ import annotations

from typing import Final

from keel.core.errors import InvalidInput

PRICES: Final[dict[str, float]] = {
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "c5.2xlarge": 0.34,
    "g4dn.xlarge": 0.526,
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "p3.2xlarge": 3.06,
    "p4d.24xlarge": 32.77,
    "p5.48xlarge": 98.32,
    "n1-standard-8": 0.38,
    "a2-highgpu-1g": 3.67,
    "a3-highgpu-8g": 88.25,
}


def hourly_price(price: float | None, instance_type: str | None) -> float | None:
    """The price per hour: the explicit one, else the table's for ``instance_type``, else None."""
    if price is not None:
        if price < 0:
            raise InvalidInput(f"hourly price must be >= 0, got {price}")
        return price
    if instance_type:
        if instance_type not in PRICES:
            raise InvalidInput(
                f"no price known for instance type {instance_type!r}",
                hint="set hourly_price, or use one of: " + ", ".join(sorted(PRICES)),
            )
        return PRICES[instance_type]
    return None
