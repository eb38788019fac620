"""The engine's pytest plugin: hypothesis profiles and a ``device`` fixture for any test suite.

Installing backprop-engine registers this module under pytest's ``pytest11`` entry point, so a
user's own suite gets, with no conftest:

* hypothesis settings profiles ``dev``, ``ci`` and ``thorough`` (see
  ``engine.testing.strategies.register_profiles``), chosen with ``pytest --hypothesis-profile ci``;
* a ``device`` fixture, parametrised over the devices that run here: ``numpy`` always, ``c`` when
  the C library loads, ``cuda`` when a real GPU is present (numba's simulator is too slow for a
  whole suite). ``--engine-devices numpy,c`` or the environment variable ``ENGINE_TEST_DEVICES``
  picks the list instead. A test's own ``@pytest.mark.parametrize("device", ...)`` or a conftest
  fixture named ``device`` takes precedence, as pytest's rules say.

Loading the plugin imports ``engine`` (no device is touched) and hypothesis when it is installed
(to register the profiles); the devices are probed when the first test asks for ``device``.
"""

from __future__ import annotations

import functools
import os

import pytest

from engine.testing.devices import available_devices

try:
    from engine.testing.strategies import register_profiles

    register_profiles()  # at import, so hypothesis's own plugin finds them for --hypothesis-profile
except ModuleNotFoundError as exc:  # hypothesis is not installed: no profiles, the fixture still works
    if exc.name != "hypothesis":
        raise

_ENV = "ENGINE_TEST_DEVICES"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("engine", "backprop-engine")
    group.addoption("--engine-devices", default=None, metavar="NAMES",
                    help=f"comma-separated devices for the 'device' fixture (default: ${_ENV}, else every "
                         "device available here: numpy, c when built, cuda on a GPU)")


def _chosen(config: pytest.Config) -> list[str] | None:
    """The device list the user named (option, then environment), or None for the default."""
    text = config.getoption("--engine-devices", default=None) or os.environ.get(_ENV)
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise pytest.UsageError(f"--engine-devices / {_ENV}: no device named in {text!r}")
    return names


@functools.cache
def _devices_here() -> tuple[str, ...]:
    return tuple(available_devices())


def _directly_parametrized(metafunc: pytest.Metafunc, name: str) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",")]
        if name in argnames:
            return True
    return False


def _ours(metafunc: pytest.Metafunc) -> bool:
    """Whether the ``device`` fixture this test sees is this plugin's (not a conftest's own)."""
    defs = getattr(metafunc, "_arg2fixturedefs", {}).get("device")
    return not defs or getattr(defs[-1].func, "__module__", None) == __name__


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that takes ``device`` (and does not parametrise it itself)."""
    if "device" not in metafunc.fixturenames or _directly_parametrized(metafunc, "device") or not _ours(metafunc):
        return
    names = _chosen(metafunc.config) or list(_devices_here())
    metafunc.parametrize("device", names, indirect=True, ids=names, scope="session")


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The name of an engine device ("numpy", "c", "cuda"): each test that takes it runs once per
    device available here (numpy; c when built; cuda on a GPU), or per ``--engine-devices``.
    Session-scoped, so it works under hypothesis's ``@given``."""
    return getattr(request, "param", "numpy")
