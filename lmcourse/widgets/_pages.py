"""Two sliders that page through precomputed panels, in the browser as well as in the kernel.

A static book has no kernel to recompute a panel when a slider moves, so a widget renders every
(first, second) panel once into nested `Stack`s (one per first value, each holding a page per
second value) and links the sliders to the stacks' visible page with `jslink`, which runs in the
browser from the embedded widget state. The same links are mirrored by kernel-side observers, so
Python (and the tests) read the panel the browser shows through `.shown()`.

Leaves out: panels computed lazily on demand (every panel is built up front, so keep the grids
small) and more than two sliders.
"""

from __future__ import annotations

from typing import Callable, Sequence

__all__ = ["paged_panels"]


def paged_panels(first: tuple[str, str, Sequence, object], second: tuple[str, str, Sequence, object],
                 panel: Callable[[object, object], str]):
    """A VBox of two SelectionSliders over the panels `panel(a, b)` for every pair of choices.

    `first` and `second` are (name, description, choices, initial value); the caller has checked the
    initial values. The box has `.sliders` ({name: slider}) and `.shown()`, the visible panel's HTML.
    """
    import ipywidgets as widgets

    (name_a, label_a, choices_a, value_a), (name_b, label_b, choices_b, value_b) = first, second
    slider_a = widgets.SelectionSlider(options=list(choices_a), value=value_a, description=label_a)
    slider_b = widgets.SelectionSlider(options=list(choices_b), value=value_b, description=label_b)
    inner = [widgets.Stack([widgets.HTML(panel(a, b)) for b in choices_b], selected_index=slider_b.index)
             for a in choices_a]
    pages = widgets.Stack(inner, selected_index=slider_a.index)
    widgets.jslink((slider_a, "index"), (pages, "selected_index"))  # in the browser: the static book
    for stack in inner:
        widgets.jslink((slider_b, "index"), (stack, "selected_index"))

    def follow_a(change):  # in the kernel: what `.shown()` and the tests read
        pages.selected_index = change["new"]

    def follow_b(change):
        for stack in inner:
            stack.selected_index = change["new"]

    slider_a.observe(follow_a, names="index")
    slider_b.observe(follow_b, names="index")
    box = widgets.VBox([widgets.HBox([slider_a, slider_b]), pages])
    box.sliders = {name_a: slider_a, name_b: slider_b}

    def shown() -> str:
        stack = pages.children[pages.selected_index]
        return stack.children[stack.selected_index].value

    box.shown = shown
    return box
