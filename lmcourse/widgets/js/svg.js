// lmcourse.widgets._svg.Panel in the browser, for live renderers that draw a chart: the same
// data-to-pixel maps and the same markup, method for method, so a renderer's SVG is the string the
// Python panel draws. One caveat: a log axis goes through Math.log10, which may differ from
// Python's math.log10 in the last bit and so, very rarely, in the last printed digit of a
// coordinate (so may Math.pow in a renderer's curve); the tests (tests/browser.py,
// assert_same_chart) allow coordinates one unit of that digit apart, and compare all else exactly.
(function () {
  const live = window.lmcourseLive;
  if (live.svg) return;
  const {f, g, escape} = live.fmt;
  const WIDTH = 460, HEIGHT = 290, MARGINS = [44, 16, 14, 42];  // _svg.WIDTH, HEIGHT, MARGINS

  function axis([low, high], log, start, end) {
    const map = log ? Math.log10 : Number;
    const lo = map(low), hi = map(high);
    if (!(hi > lo)) throw new Error(`Panel: axis range [${low}, ${high}]; expected low < high`);
    return v => start + (map(v) - lo) / (hi - lo) * (end - start);
  }

  class Panel {
    constructor(xRange, yRange, {logX = false, logY = false, width = WIDTH, height = HEIGHT,
                                 margins = MARGINS} = {}) {
      this.width = width;
      this.height = height;
      [this.left, this.right, this.top, this.bottom] = margins;
      this.x = axis(xRange, logX, this.left, width - this.right);
      this.y = axis(yRange, logY, height - this.bottom, this.top);  // up is smaller y
      this.xRange = xRange;
      this.yRange = yRange;
    }

    corners() {
      return [this.xRange.map(this.x), this.yRange.map(this.y)];
    }

    grid(xTicks = [], yTicks = [], {xLabel = t => g(t), yLabel = t => g(t), yStyle = null,
                                    verticalLines = false} = {}) {
      const [[x0, x1], [y0, y1]] = this.corners();
      const parts = [];
      for (const t of yTicks) {
        const style = (yStyle && yStyle(t)) || "stroke='#e4e4e4'";
        parts.push(`<line x1='${f(x0, 1)}' y1='${f(this.y(t), 1)}' x2='${f(x1, 1)}' y2='${f(this.y(t), 1)}' ${style}/>`
                   + `<text x='${f(x0 - 6, 1)}' y='${f(this.y(t) + 4, 1)}' font-size='11' text-anchor='end'>`
                   + `${yLabel(t)}</text>`);
      }
      for (const t of xTicks) {
        if (verticalLines) {
          parts.push(`<line x1='${f(this.x(t), 1)}' y1='${f(y0, 1)}' x2='${f(this.x(t), 1)}' y2='${f(y1, 1)}' `
                     + "stroke='#e4e4e4'/>");
        }
        parts.push(`<text x='${f(this.x(t), 1)}' y='${f(y0 + 16, 1)}' font-size='11' text-anchor='middle'>`
                   + `${xLabel(t)}</text>`);
      }
      return parts.join("");
    }

    frame(xTitle, yTitle, {box = true} = {}) {
      const [[x0, x1], [y0, y1]] = this.corners();
      const border = box ? `<rect x='${f(x0, 1)}' y='${f(y1, 1)}' width='${f(x1 - x0, 1)}' height='${f(y0 - y1, 1)}' `
                           + "fill='none' stroke='#888'/>" : "";
      return border + `<text x='${f((x0 + x1) / 2, 1)}' y='${this.height - 6}' font-size='12' text-anchor='middle'>`
        + `${escape(xTitle)}</text><text transform='translate(14 ${f((y0 + y1) / 2, 1)}) rotate(-90)' `
        + `font-size='12' text-anchor='middle'>${escape(yTitle)}</text>`;
    }

    // `width` prints as JavaScript prints it: pass 2 or 2.5 (Python prints a float 2.0 as "2.0").
    polyline(points, color, width = 2, extra = "") {
      const path = points.map(([a, b]) => `${f(this.x(a), 1)},${f(this.y(b), 1)}`).join(" ");
      return `<polyline points='${path}' fill='none' stroke='${color}' stroke-width='${width}'${extra}/>`;
    }

    svg(title, ...parts) {
      return `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 ${this.width} ${this.height}' `
        + `width='${this.width}' height='${this.height}' role='img' font-family='sans-serif'>`
        + `<title>${escape(title)}</title>${parts.join("")}</svg>`;
    }
  }

  // numpy.linspace(start, stop, num), value for value: start + i * step, the last one stop itself
  // (i / (num - 1) would differ from numpy in the last bit of some values).
  function linspace(start, stop, num) {
    const step = (stop - start) / (num - 1);
    return Array.from({length: num}, (_, i) => i === num - 1 ? stop : start + i * step);
  }

  live.svg = {Panel, linspace};
})();
