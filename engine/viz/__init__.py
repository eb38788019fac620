"""Pictures and printouts of the chain rule: ``draw``, ``render``, ``steps``."""

from engine.viz.dot import Drawing, draw, render
from engine.viz.renderer import RendererMissingWarning, RenderError, find_renderer
from engine.viz.steps import Step, format_steps, steps

__all__ = [
    "Drawing",
    "RenderError",
    "RendererMissingWarning",
    "Step",
    "draw",
    "find_renderer",
    "format_steps",
    "render",
    "steps",
]
