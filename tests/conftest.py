"""Shared fixtures. ``on_each_device`` runs a whole module once per device (the numpy
reference and, when built, the C library) by making each the default device in turn."""

from __future__ import annotations

import pytest
from tensor_helpers import DEVICES

from engine.backends import default_device_name, set_default_device


@pytest.fixture(params=DEVICES)
def on_each_device(request):
    previous = default_device_name()
    set_default_device(request.param)
    yield request.param
    set_default_device(previous)
