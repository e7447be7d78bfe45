// The speculative-decoding widget's panel in the browser: lmcourse.widgets.speculative.
// speculative_panel_html, line for line, over the formulas of lmcourse.accounting.speculative,
// ported (Math.pow is C's pow, as Python's ** is). The measured points come from Python in `data`.
(function () {
  const live = window.lmcourseLive;
  const {f, g} = live.fmt;

  // accounting.speculative.expected_tokens_per_call, expected_speedup and best_gamma
  const tokensPerCall = (alpha, gamma) => alpha === 1 ? gamma + 1.0 : (1 - Math.pow(alpha, gamma + 1)) / (1 - alpha);
  const speedup = (alpha, gamma, c) => tokensPerCall(alpha, gamma) / (gamma * c + 1);
  function bestGamma(alpha, c, maxGamma) {
    let best = 1;  // the first of equal speedups, as Python's max() picks
    for (let gamma = 2; gamma <= maxGamma; gamma++) {
      if (speedup(alpha, gamma, c) > speedup(alpha, best, c)) best = gamma;
    }
    return best;
  }

  // speculative.speculative_svg: both curves against alpha, the break-even line at 1, the measured points.
  function speculativeSvg(gamma, c, measured, data) {
    const top = gamma + 1;
    const panel = new live.svg.Panel([0.0, 1.0], [0.0, top]);
    const ticks = new Set([0, 1, top]);
    for (let t = 0; t <= top; t += Math.max(1, Math.floor(top / 4))) ticks.add(t);
    const breakEven = "stroke='#999' stroke-dasharray='4 3'";
    const grid = panel.grid(live.svg.linspace(0, 1, 6), [...ticks].sort((a, b) => a - b),
                            {xLabel: t => f(t, 1), yLabel: String, yStyle: t => t === 1 ? breakEven : null});
    const axes = panel.frame("per-token acceptance alpha", "x (tokens per call, speedup)");
    const alphas = live.svg.linspace(0.0, 1.0, data.num_points);
    const lines = panel.polyline(alphas.map(a => [a, tokensPerCall(a, gamma)]), "#30609a")
      + panel.polyline(alphas.map(a => [a, speedup(a, gamma, c)]), "#c0392b");
    const legend = `<text x='${panel.left + 8}' y='${panel.top + 16}' font-size='11' fill='#30609a'>`
      + `tokens per target call</text><text x='${panel.left + 8}' y='${panel.top + 31}' font-size='11' fill='#c0392b'>`
      + `speedup at c = ${g(c)}</text>`;
    let dots = "";
    for (const [alpha, tokens, measuredSpeedup] of measured || []) {
      dots += `<circle cx='${f(panel.x(alpha), 1)}' cy='${f(panel.y(tokens), 1)}' r='4' fill='#30609a' stroke='#222' `
        + "stroke-width='0.8'/>";
      if (measuredSpeedup !== null) {
        const x = panel.x(alpha), y = panel.y(measuredSpeedup);
        dots += `<rect x='${f(x - 4, 1)}' y='${f(y - 4, 1)}' width='8' height='8' fill='#c0392b' stroke='#222'/>`;
      }
    }
    const title = `Speculative decoding with gamma = ${gamma} draft tokens, cost ratio c = ${g(c)}`;
    return panel.svg(title, grid, axes, lines, legend, dots);
  }

  // speculative.speculative_panel_html: the chart, its caption and the table at data.alphas.
  live.renderers.speculative = function (s, data) {
    const {gamma, cost_ratio: c} = s;
    const measured = data.measured[String(gamma)];
    const rows = data.alphas.map(a => `<tr><td>${g(a)}</td><td>${f(tokensPerCall(a, gamma), 2)}</td>`
      + `<td>${f(speedup(a, gamma, c), 2)}</td><td>${bestGamma(a, c, data.max_gamma)}</td></tr>`).join("");
    const legend = measured && measured.length
      ? " Points: measured runs (circles: tokens per target call; squares: measured speedup)." : "";
    const table = "<table style='font-size:12px'><tr><th>alpha</th><th>tokens / target call</th>"
      + `<th>speedup (gamma = ${gamma})</th><th>best gamma</th></tr>${rows}</table>`;
    const caption = `<p>gamma = <b>${gamma}</b> draft tokens per step; a draft call costs c = <b>${g(c)}</b> `
      + `target calls. Below the dashed line at 1 speculation is slower than plain decoding.${legend}</p>`;
    return speculativeSvg(gamma, c, measured, data) + caption + table;
  };
})();
