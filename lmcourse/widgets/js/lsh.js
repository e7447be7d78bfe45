// The LSH S-curve widget's panel in the browser: lmcourse.widgets.lsh.scurve_panel_html, line for
// line. The formula 1 - (1 - s^r)^b and the threshold (1/b)^(1/r) are ported (Math.pow is C's pow,
// as numpy's and Python's ** are); the orange points are MinHash runs on random sets, which Python
// measured for every (b, r) on the sliders when it built the widget: `data.empirical["b,r"]`.
(function () {
  const live = window.lmcourseLive;
  const {f, g, escape} = live.fmt;

  // lmcourse.data.lsh.lsh_candidate_probability and lsh_threshold
  const probability = (s, b, r) => 1.0 - Math.pow(1.0 - Math.pow(s, r), b);
  const threshold = (b, r) => Math.pow(1.0 / b, 1.0 / r);

  // lsh._vertical: a vertical line at similarity s, labelled at `height` on the `anchor` side.
  function vertical(panel, s, color, dash, label, anchor, height) {
    const dx = anchor === "end" ? -4 : 4;
    const x = f(panel.x(s), 1);
    return `<line x1='${x}' y1='${f(panel.y(0), 1)}' x2='${x}' y2='${f(panel.y(1), 1)}' stroke='${color}' `
      + `stroke-width='1.5' stroke-dasharray='${dash}'/>`
      + `<text x='${f(panel.x(s) + dx, 1)}' y='${f(panel.y(height), 1)}' font-size='11' fill='${color}' `
      + `text-anchor='${anchor}'>${escape(label)}</text>`;
  }

  // lsh.scurve_svg
  function scurveSvg(b, r, t, points, jaccard, data) {
    const panel = new live.svg.Panel([0.0, 1.0], [0.0, 1.0], {margins: data.margins});
    const ticks = [0, 1, 2, 3, 4, 5].map(i => i / 5);
    const grid = panel.grid(ticks, ticks, {xLabel: v => f(v, 1), yLabel: v => f(v, 1)});
    const axes = panel.frame("Jaccard similarity s", "P(candidate pair)");
    const line = panel.polyline(live.svg.linspace(0.0, 1.0, data.num_points).map(s => [s, probability(s, b, r)]),
                                "#30609a");
    // Labels go where the curve is not (see scurve_svg).
    const high = t > 0.5;
    let marks = vertical(panel, t, "#c0392b", "none", `(1/b)^(1/r) = ${f(t, 2)}`,
                         high ? "end" : "start", high ? 0.93 : 0.04);
    marks += vertical(panel, jaccard, "#2a7d2a", "5 3", `verify at ${g(jaccard)}`,
                      high ? "start" : "end", high ? 0.04 : 0.12);
    const dots = (points || []).map(([s, p]) => `<circle cx='${f(panel.x(s), 1)}' cy='${f(panel.y(p), 1)}' `
      + "r='3.5' fill='#f58518' stroke='#333' stroke-width='0.6'/>").join("");
    return panel.svg(`LSH S-curve for b = ${b} bands of r = ${r} rows`, grid, axes, marks, line, dots);
  }

  // lsh.scurve_panel_html: the chart and its caption.
  live.renderers.lsh = function (s, data) {
    const b = s.num_bands, r = s.rows, jaccard = data.jaccard_threshold;
    const t = threshold(b, r);
    let points = null;
    if (data.empirical) {
      points = data.empirical[`${b},${r}`];
      if (!points) throw new Error(`b = ${b}, r = ${r}: no measured points; the widget was built without them`);
    }
    const atThreshold = probability(jaccard, b, r), atHalf = probability(0.5, b, r);
    const legend = data.empirical ? ` Orange points: the share of ${data.num_pairs} generated pairs per similarity `
      + "that real MinHash signatures made candidates." : "";
    return scurveSvg(b, r, t, points, jaccard, data)
      + `<p>b = ${b} bands &times; r = ${r} rows = <b>${b * r} hash functions</b>; `
      + `threshold (1/b)<sup>1/r</sup> = <b>${f(t, 3)}</b>. A pair of similarity `
      + `${g(jaccard)} becomes a candidate with probability <b>${f(atThreshold, 3)}</b> `
      + `(missed: ${f(1 - atThreshold, 3)}); a pair of similarity 0.5 with probability `
      + `<b>${f(atHalf, 3)}</b>.${legend}</p>`;
  };
})();
