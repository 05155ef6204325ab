"""Find a pipeline by ``path/to/file.py:name`` (or ``package.module:name``), as ``keel pipeline run`` names it.

A file is imported under a name derived from its resolved path and kept in
``sys.modules``, so the process pool's forked workers find its steps by name
and the cache key (which never includes the module name) is the same
whichever way the file was loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from blake3 import blake3

from keel.core.errors import InvalidInput, NotFound
from keel.pipelines.pipeline import Pipeline


def load_pipeline(target: str) -> Pipeline:
    """The pipeline ``target`` names. Raises InvalidInput or NotFound naming what was wrong."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise InvalidInput(f"pipeline {target!r}: write FILE.py:NAME or MODULE:NAME")
    if where.endswith(".py") or "/" in where:
        path = Path(where).resolve()
        if not path.is_file():
            raise NotFound(f"pipeline file {where} does not exist")
        name = f"keel_pipeline_{path.stem}_{blake3(str(path).encode()).hexdigest()[:8]}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise InvalidInput(f"pipeline file {where} cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))  # the file's own imports of its neighbours
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise NotFound(f"pipeline module {where!r} cannot be imported: {exc}") from exc
    found = getattr(module, attr, None)
    if found is None:
        raise NotFound(f"{where} has no {attr!r}")
    if not isinstance(found, Pipeline):
        raise InvalidInput(
            f"{target} is a {type(found).__name__}, not a pipeline: decorate it with @keel.pipeline"
        )
    return found
