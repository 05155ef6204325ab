"""The service table: services load on first use, and ``preload`` imports one on another thread."""

from __future__ import annotations

import subprocess
import sys

import pytest

from keel.services import SERVICE_PATHS, load_service, preload


def test_every_registered_service_loads_under_its_name() -> None:
    for name in SERVICE_PATHS:
        assert load_service(name).name == name


def test_preload_imports_the_service_module_in_the_background() -> None:
    code = (
        "import sys\n"
        "from keel.services import preload\n"
        "assert 'keel.datasets.service' not in sys.modules\n"
        "preload('data').join()\n"
        "assert 'keel.datasets.service' in sys.modules and 'sqlalchemy' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_preload_of_an_unknown_service_is_silent_and_the_real_lookup_still_fails(
    capfd: pytest.CaptureFixture[str],
) -> None:
    preload("no-such-service").join()
    assert capfd.readouterr().err == ""  # no thread traceback: the caller's own lookup reports it
    with pytest.raises(KeyError):
        load_service("no-such-service")
