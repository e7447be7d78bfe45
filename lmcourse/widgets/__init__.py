"""Widgets over the package's pure functions, live in the reader's browser (`_live`).

Widgets stay thin: the arithmetic lives in the component (e.g. `lmcourse.tokenizer.bpe_steps`) and
the widget binds controls to it, so every number it shows is testable without a browser.
"""

from lmcourse.widgets.bpe_merges import bpe_merge_explorer, bpe_panel_html, describe_start, describe_step, show_token

__all__ = ["bpe_merge_explorer", "bpe_panel_html", "describe_start", "describe_step", "show_token"]

from lmcourse.widgets.memory import memory_bar_html, memory_panel_html, memory_widget, training_time_html  # noqa: E402

__all__ += ["memory_bar_html", "memory_panel_html", "memory_widget", "training_time_html"]

from lmcourse.widgets.lsh import lsh_scurve_widget, scurve_panel_html, scurve_points, scurve_svg  # noqa: E402

__all__ += ["lsh_scurve_widget", "scurve_panel_html", "scurve_points", "scurve_svg"]

from lmcourse.widgets.roofline import operation_cost, roofline_panel_html, roofline_svg, roofline_widget  # noqa: E402

__all__ += ["operation_cost", "roofline_panel_html", "roofline_svg", "roofline_widget"]

from lmcourse.widgets.zero import zero_html, zero_widget  # noqa: E402

__all__ += ["zero_html", "zero_widget"]

from lmcourse.widgets.speculative import (COST_CHOICES, speculative_curves, speculative_panel_html,  # noqa: E402
                                          speculative_widget)

__all__ += ["COST_CHOICES", "speculative_curves", "speculative_panel_html", "speculative_widget"]
