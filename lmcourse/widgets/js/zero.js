// The ZeRO widget's panel in the browser: lmcourse.widgets.zero.zero_html, line for line, over
// lmcourse.accounting.zero's formulas (data: stage names, bar colours, bytes per element).
window.lmcourseLive.renderers.zero = function (s, data, fmt) {
  const {num_params: numParams, num_gpus: numGpus, stage, optimizer_bytes: optimizerBytes} = s;
  const {param_bytes: paramBytes, grad_bytes: gradBytes, stages, colors} = data;
  const volume = (stage === 3 ? 3 : 2) * numParams;  // zero_communication
  const rows = stages.map((_, st) => {  // zero_memory for every stage
    const shard = numParams / numGpus;
    const m = {parameters: (st >= 3 ? shard : numParams) * paramBytes,
               gradients: (st >= 2 ? shard : numParams) * gradBytes,
               optimizer_state: (st >= 1 ? shard : numParams) * optimizerBytes};
    m.total = m.parameters + m.gradients + m.optimizer_state;
    return m;
  });
  const scale = Math.max(...rows.map(m => m.total));
  const label = name => name.replace("_", " ");
  const lines = rows.map((m, st) => {
    const bar = ["parameters", "gradients", "optimizer_state"].filter(name => m[name] > 0).map(name =>
      `<div title='${label(name)}: ${fmt.bytes(m[name])}' style='width:${fmt.f(100 * m[name] / scale, 3)}%;`
      + `background:${colors[name]};height:100%'></div>`).join("");
    const weight = st === stage ? "bold" : "normal";
    const outline = st === stage ? "2px solid currentColor" : "1px solid #bbb";
    return `<tr style='font-weight:${weight}'><td style='white-space:nowrap;padding-right:1em'>`
      + `${stages[st]}</td><td style='width:60%'><div style='display:flex;height:1.2em;`
      + `border:${outline}'>${bar}</div></td><td style='text-align:right;padding-left:1em;white-space:nowrap'>`
      + `${fmt.bytes(m.total)}</td></tr>`;
  });
  const legend = Object.entries(colors).map(([name, color]) =>
    `<span style='margin-right:1em'><span style='display:inline-block;width:0.8em;height:0.8em;`
    + `background:${color}'></span> ${label(name)}</span>`).join(" ");
  const chosen = rows[stage];
  return `<table style='width:100%'>${lines.join("")}</table><div>${legend}</div>`
    + `<p>Stage ${stage} on ${numGpus} GPUs, &Psi; = ${fmt.g(numParams, 3)}, K = ${fmt.g(optimizerBytes)}: each GPU holds `
    + `<b>${fmt.bytes(chosen.total)}</b> (parameters ${fmt.bytes(chosen.parameters)}, gradients `
    + `${fmt.bytes(chosen.gradients)}, optimizer state ${fmt.bytes(chosen.optimizer_state)}) and `
    + `communicates <b>${fmt.g(volume / numParams)} &Psi;</b> = ${fmt.g(volume, 3)} elements `
    + `(${fmt.bytes(volume * gradBytes)} at ${fmt.g(gradBytes)} bytes each) per step.</p>`;
};
