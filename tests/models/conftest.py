from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def cancer() -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y
