// The roofline widget's panel in the browser: lmcourse.widgets.roofline.roofline_panel_html over
// operation_cost, line for line. The cost formulas are those of lmcourse.accounting.roofline,
// ported (they are a few lines each, but not polynomials: min() caps, sliding windows, the MoE
// experts a batch touches); the numbers they need of each model preset (parameter counts, FLOPs
// per token, KV bytes per token) come from Python in `data`. Python computes the counts as exact
// integers and converts once to a double: the same here with BigInt, then Number(), so every cost
// is the very double Python gets (tests/test_live_widgets.py checks that over every operation,
// preset and dtype with random shapes).
(function () {
  const live = window.lmcourseLive;
  const {f, g, escape} = live.fmt;
  const big = BigInt;

  function preset(data, name) {
    const p = data.presets[name];
    if (!p) throw new Error(`preset=${name}; expected one of ${Object.keys(data.presets).join(", ")}`);
    return p;
  }

  // forward_flops_per_token: affine in the positions attended (Python checks that when it ships them).
  const forwardFlops = (p, seqLen) => Number(big(p.flops_base) + big(p.flops_per_position) * big(seqLen));

  // roofline._weight_bytes: every weight once for `tokens` tokens, the gathered tables' rows they use,
  // and in MoE layers only the experts some token picks (uniform routing, in expectation).
  function weightBytes(p, tokens, size) {
    let values = big(p.weights);
    for (const [rows, width] of p.gathered) values += big(Math.min(tokens, rows)) * big(width);
    if (!p.moe) return Number(values) * size;
    const [layers, experts, topK, dModel, dFf] = p.moe;
    const touched = experts * (1 - Math.pow(1 - topK / experts, tokens));
    return (Number(values) - layers * (experts - touched) * 3 * dModel * dFf) * size;
  }

  // operation_cost: {name, flops, bytes} of one of OPERATIONS.
  function cost(s, data) {
    const {operation, m, k, n, batch, seq} = s;
    const size = data.dtype_bytes[s.dtype];
    const numel = m * n;  // below 2^53: the controls stop at 2^20
    switch (operation) {
      case "matmul":
        return {name: `matmul ${m}x${k}x${n}`, flops: 2 * m * k * n,
                bytes: Number(big(m) * big(k) + big(k) * big(n) + big(m) * big(n)) * size};
      case "elementwise add":
        return {name: `elementwise x${numel}`, flops: numel * 1, bytes: numel * 3 * size};
      case "softmax":
        return {name: `softmax ${m}x${n}`, flops: numel * 5, bytes: numel * 2 * size};
      case "rmsnorm":
        return {name: `rmsnorm ${m}x${n}`, flops: numel * 4, bytes: numel * 2 * size + n * size};
    }
    const p = preset(data, s.preset);
    const kv = big(p.kv[s.dtype]);
    switch (operation) {
      case "attention prefill": {
        const values = big(batch) * big(seq) * big(p.head_dim) * big(2 * p.num_heads + 2 * p.kv_heads);
        return {name: `attention fused b${batch} s${seq}`, flops: 4 * batch * p.num_heads * seq * seq * p.head_dim,
                bytes: Number(values) * size};
      }
      case "model prefill": {
        const tokens = big(batch) * big(seq);
        return {name: `prefill b${batch} s${seq}`, flops: Number(tokens) * forwardFlops(p, seq),
                bytes: weightBytes(p, batch * seq, size) + Number(tokens * kv)};
      }
      case "decode step": {
        const attended = Math.min(seq, p.window || seq);
        return {name: `decode b${batch} ctx${seq}`, flops: batch * forwardFlops(p, attended),
                bytes: weightBytes(p, batch, size) + Number(big(batch) * big(attended) * kv)};
      }
    }
    throw new Error(`operation=${operation}; expected one of matmul, elementwise add, softmax, rmsnorm, `
                    + "attention prefill, model prefill, decode step");
  }

  // roofline._si, _duration, _percent
  function si(value, unit) {
    for (const [prefix, size] of [["P", 1e15], ["T", 1e12], ["G", 1e9], ["M", 1e6], ["k", 1e3]]) {
      if (value >= size) return `${g(value / size, 3)} ${prefix}${unit}`;
    }
    return `${g(value, 3)} ${unit}`;
  }

  function duration(seconds) {
    for (const [unit, size] of [["s", 1.0], ["ms", 1e-3]]) {
      if (seconds >= size) return `${g(seconds / size, 3)} ${unit}`;
    }
    return `${g(seconds * 1e6, 3)} &micro;s`;
  }

  const percent = share => share >= 0.1 ? `${f(100 * share, 0)}%` : `${g(100 * share, 2)}%`;

  function peakOf(gpu, dtype) {  // GPU.peak
    if (!(dtype in gpu.peak_flops)) {
      throw new Error(`dtype=${dtype}; expected one of ${Object.keys(gpu.peak_flops).join(", ")}`);
    }
    return gpu.peak_flops[dtype];
  }

  const attainable = (gpu, dtype, intensity) => Math.min(peakOf(gpu, dtype), intensity * gpu.bandwidth);
  // Python's 10.0**e is C's pow(); so is Math.pow here, where V8 may fold a ** b otherwise
  const pow10 = e => Math.pow(10, e);
  const decades = (low, high) => [Math.floor(Math.log10(low)), Math.ceil(Math.log10(high))];

  // roofline_svg: the roof of gpu in dtype, log-log, with each [label, cost] of `points` on it.
  function rooflineSvg(gpu, dtype, points, data) {
    const peak = peakOf(gpu, dtype), ridge = peak / gpu.bandwidth;
    const intensities = points.map(([, c]) => c.flops / c.bytes);
    const [xLo, xHi] = decades(Math.min(...intensities, ridge / 100), Math.max(...intensities, ridge * 10));
    const [yLo, yHi] = decades(attainable(gpu, dtype, pow10(xLo)), peak * 1.5);
    const {width, height, margins} = data.geometry;
    const panel = new live.svg.Panel([pow10(xLo), pow10(xHi)], [pow10(yLo), pow10(yHi)],
                                     {logX: true, logY: true, width, height, margins});
    const {x, y} = panel;
    const powers = (lo, hi) => Array.from({length: hi - lo + 1}, (_, i) => pow10(lo + i));
    const grid = panel.grid(powers(xLo, xHi), powers(yLo, yHi), {
      xLabel: t => `10<tspan dy='-5' font-size='8'>${Math.round(Math.log10(t))}</tspan>`,
      yLabel: t => si(t, ""), verticalLines: true});
    const axes = panel.frame("arithmetic intensity (FLOPs / byte)", "attainable FLOP/s", {box: false});
    const xEnd = pow10(xHi), xStart = pow10(xLo);
    const roof = `<polyline points='${f(x(xStart), 1)},${f(y(attainable(gpu, dtype, xStart)), 1)} `
      + `${f(x(ridge), 1)},${f(y(peak), 1)} ${f(x(xEnd), 1)},${f(y(peak), 1)}' `
      + "fill='none' stroke='#333' stroke-width='2.5'/>"
      + `<line x1='${f(x(ridge), 1)}' y1='${f(y(peak), 1)}' x2='${f(x(ridge), 1)}' y2='${f(y(pow10(yLo)), 1)}' `
      + `stroke='#888' stroke-dasharray='4 3'/><text x='${f(x(ridge) + 4, 1)}' y='${f(y(pow10(yLo)) - 6, 1)}' `
      + `font-size='11' fill='#555'>ridge ${g(ridge, 3)} FLOPs/B</text>`
      + `<text x='${f(x(xEnd) - 4, 1)}' y='${f(y(peak) - 6, 1)}' font-size='11' text-anchor='end'>`
      + `peak ${si(peak, "FLOP/s")}</text>`;
    const dots = points.map(([label, c], i) => {
      const color = data.colors[i % data.colors.length];
      const cx = x(intensities[i]), cy = y(attainable(gpu, dtype, intensities[i]));
      const [anchor, dx] = cx > width * 0.6 ? ["end", -8] : ["start", 8];
      return `<circle cx='${f(cx, 1)}' cy='${f(cy, 1)}' r='5' fill='${color}' stroke='#222'/>`
        + `<text x='${f(cx + dx, 1)}' y='${f(cy + 16 + 13 * (i % 2), 1)}' font-size='11' fill='${color}' `
        + `text-anchor='${anchor}'>${escape(label)}</text>`;
    }).join("");
    return panel.svg(`Roofline of ${gpu.name} in ${dtype}`, grid, axes, roof, dots);
  }

  // roofline_panel_html: the chart and its caption.
  live.renderers.roofline = function (s, data) {
    const gpu = data.gpus[s.gpu], c = cost(s, data);
    const peak = peakOf(gpu, s.dtype), ridge = peak / gpu.bandwidth, intensity = c.flops / c.bytes;
    const verdict = intensity < ridge ? "memory" : "compute";
    const reach = attainable(gpu, s.dtype, intensity);
    const color = verdict === "memory" ? "#c0392b" : "#2a7d2a";
    const time = Math.max(c.flops / peak, c.bytes / gpu.bandwidth);
    return rooflineSvg(gpu, s.dtype, [[c.name, c]], data)
      + `<p>${escape(c.name)}: ${si(c.flops, "FLOP")} over ${si(c.bytes, "B")} = `
      + `<b>${g(intensity, 3)} FLOPs/byte</b>; ridge point of ${escape(gpu.name)} in ${s.dtype}: `
      + `${g(ridge, 3)}. <b style='color:${color}'>${verdict}-bound</b>: at most `
      + `<b>${si(reach, "FLOP/s")}</b> (${percent(reach / peak)} of peak), `
      + `so no faster than <b>${duration(time)}</b>.</p>`;
  };
  live.renderers.roofline.cost = cost;  // for the tests: the costs alone, before any drawing

  // Offer only the dtypes the chosen GPU has a peak for (no fp8 on an A100, only fp32 measured on a
  // CPU); when the chosen one goes, move to bf16 if the GPU has it, else to its first dtype.
  function offerDtypes(root, spec) {
    const values = name => spec.controls.find(c => c.name === name).values;
    const gpuSelect = root.querySelector('[data-control="gpu"]');
    const dtypeSelect = root.querySelector('[data-control="dtype"]');
    const peaks = spec.data.gpus[values("gpu")[Number(gpuSelect.value)]].peak_flops;
    const dtypes = values("dtype");
    dtypeSelect.querySelectorAll("option").forEach((option, i) => {
      option.disabled = option.hidden = !(dtypes[i] in peaks);
    });
    if (!(dtypes[Number(dtypeSelect.value)] in peaks)) {
      dtypeSelect.value = String(dtypes.indexOf("bf16" in peaks ? "bf16" : Object.keys(peaks)[0]));
    }
  }

  live.onchange.roofline = offerDtypes;
  // live.js calls onchange when a control moves; the starting GPU's dtypes are set here, as the
  // output's script runs (it follows the widget's HTML), before the reader touches anything.
  document.querySelectorAll('.lmcourse-live[data-renderer="roofline"]:not([data-mounted])').forEach(root =>
    offerDtypes(root, JSON.parse(root.querySelector("script.lmcourse-live-spec").textContent)));
})();
