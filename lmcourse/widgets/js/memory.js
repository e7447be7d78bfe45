// The chapter-2 memory widget's panel in the browser: lmcourse.widgets.memory.memory_panel_html over
// lmcourse.accounting's count_parameters, activation_breakdown, model_state_bytes and training_days,
// in the same order and with the same kinds of numbers. Python counts bytes in exact integers; here
// they are BigInts, converted to doubles where Python converts them (int / float), so the strings
// match digit for digit however large the batch.
(function () {
  const B = BigInt;
  const FP32 = 4n, INDEX = 8n;  // norms and the loss compute in fp32; token ids are int64

  // Python's round(x): halves go to the even neighbour.
  function roundEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
  }

  const commas = n => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sum = values => values.reduce((a, b) => a + b, 0n);

  // custom_config and the checks of TransformerConfig a reshaped preset can fail.
  function customConfig(base, s) {
    const kv = base.num_kv_heads && s.num_heads % base.num_kv_heads === 0 ? base.num_kv_heads : null;
    const c = {...base, num_layers: s.num_layers, d_model: s.d_model, vocab_size: s.vocab_size,
               num_heads: s.num_heads, num_kv_heads: kv,
               d_ff: Math.max(1, roundEven(base.d_ff * s.d_model / base.d_model))};
    if (c.d_model % c.num_heads) {
      throw new Error(`TransformerConfig: d_model=${c.d_model} is not divisible by num_heads=${c.num_heads}; `
                      + "each head gets d_model // num_heads dimensions");
    }
    c.head_dim = Math.floor(c.d_model / c.num_heads);
    c.kv_heads = c.num_kv_heads || c.num_heads;
    if (c.position === "rope" && c.head_dim % 2) {
      throw new Error("TransformerConfig: RoPE rotates pairs of dimensions, so the head dimension "
                      + `d_model // num_heads = ${c.head_dim} must be even`);
    }
    return c;
  }

  const isMoeLayer = (c, layer) => c.num_experts > 0 && (layer + 1) % c.moe_every === 0;
  const normsPerBlock = c => (c.parallel_layers && c.norm_position === "post" ? 1n : 2n);

  function countParameters(c) {
    const d = B(c.d_model), dff = B(c.d_ff), kvDim = B(c.kv_heads * c.head_dim);
    const expert = 3n * d * dff;  // experts are SwiGLUs whatever c.ffn says
    let ffn = 0n, inactive = 0n;
    for (let layer = 0; layer < c.num_layers; layer++) {
      if (isMoeLayer(c, layer)) {
        ffn += B(c.num_experts) * d + B(c.num_experts + c.num_shared_experts) * expert;
        inactive += B(c.num_experts - c.top_k) * expert;
      } else {
        ffn += (c.ffn === "swiglu" ? 3n : 2n) * d * dff;
      }
    }
    const embeddings = B(c.vocab_size) * d;
    const total = embeddings + (c.position === "learned" ? B(c.context_length) * d : 0n)
      + B(c.num_layers) * (2n * d * d + 2n * kvDim * d) + ffn
      + B(c.num_layers) * (normsPerBlock(c) * d + (c.qk_norm ? 2n * B(c.head_dim) : 0n)) + d
      + (c.tie_embeddings ? 0n : embeddings);
    return {total, active: total - inactive};
  }

  // _layer_activations: bytes one block keeps for backward, per component.
  function layerActivations(c, layer, batch, seq, act) {
    const n = B(batch) * B(seq), d = B(c.d_model), dff = B(c.d_ff);
    const kvDim = B(c.kv_heads * c.head_dim), heads = B(c.num_heads);
    const norm = n * (2n * d + 1n) * FP32;
    const numNorms = normsPerBlock(c);
    const sharedNormInput = c.parallel_layers && numNorms === 2n && c.norm === "rmsnorm" && act === FP32;
    const sublayerInputs = c.parallel_layers && c.norm_position === "post" ? 1n : 2n;
    const qkNorm = c.qk_norm ? (2n * (n * d + n * kvDim) + n * (heads + B(c.kv_heads))) * FP32 : 0n;
    const scores = B(batch) * heads * B(seq) * B(seq);
    let ffn;
    if (isMoeLayer(c, layer)) {
      const assignments = n * B(c.top_k);
      ffn = assignments * ((3n * d + 5n * dff + 1n) * act + 2n * INDEX)
        + B(c.num_shared_experts) * 5n * n * dff * act
        + n * (2n * B(c.num_experts) + 3n) * FP32 + assignments * INDEX;
    } else {
      ffn = {swiglu: 5n, gelu: 4n, relu: 1n}[c.ffn] * n * dff * act;
    }
    return [numNorms * norm - (sharedNormInput ? n * d * FP32 : 0n) + qkNorm,
            (n * d + 2n * n * kvDim + n * d) * act + scores * act,
            sublayerInputs * n * d * act,
            ffn];
  }

  function activationBytes(c, batch, seq, act, checkpointing) {
    let layers = [];
    for (let layer = 0; layer < c.num_layers; layer++) layers.push(layerActivations(c, layer, batch, seq, act));
    if (checkpointing) {  // the largest block once (the first of equals, as Python's max)
      layers = [layers.reduce((best, terms) => (sum(terms) > sum(best) ? terms : best))];
    }
    const n = B(batch) * B(seq), d = B(c.d_model), logits = n * B(c.vocab_size);
    return sum(layers.map(sum))
      + (checkpointing ? B(c.num_layers) * n * d * act : 0n)
      + (n + (c.position === "learned" ? B(seq) : 0n)) * INDEX
      + n * (2n * d + 1n) * FP32 + n * d * act + (c.logit_soft_cap ? logits * act : 0n)
      + logits * FP32 + n * (2n * FP32 + INDEX);
  }

  function trainingMemory(c, s, data) {
    const policy = data.precisions[s.precision], size = name => B(data.bytes_per_dtype[name]);
    const params = countParameters(c).total;
    return [
      ["parameters", params * size(policy.weights)],
      ["gradients", params * size(policy.gradients)],
      ["optimizer_state", params * B(data.optimizer_states[s.optimizer]) * size(policy.optimizer_state)],
      ["master_weights", policy.master_weights ? params * size(policy.master_weights) : 0n],
      ["activations", activationBytes(c, s.batch_size, s.seq_len, size(policy.activations), s.checkpointing)],
    ];
  }

  // memory_bar_html
  function memoryBar(breakdown, gpu, colors, fmt) {
    const total = sum(breakdown.map(([, v]) => v));
    const memory = gpu.memory_bytes;
    const byTotal = !(memory > total);  // Python's max(total, memory) keeps the int unless memory is larger
    // Python divides int by int exactly rounded, here both are rounded to doubles first: beyond 2**53
    // bytes the two can differ in a double's last bit, far below the three decimals shown.
    const share = value => (byTotal ? Number(100n * value) / Number(total) : Number(100n * value) / memory);
    const parts = breakdown.filter(([, v]) => v > 0n);
    const label = name => name.replace("_", " ");
    const segments = parts.map(([name, value]) =>
      `<div title='${label(name)}: ${fmt.bytes(Number(value))}' style='width:${fmt.f(share(value), 3)}%;`
      + `background:${colors[name]};height:100%'></div>`).join("");
    const left = byTotal ? 100 * memory / Number(total) : 100 * memory / memory;
    const marker = `<div style='position:absolute;left:${fmt.f(left, 3)}%;top:-4px;bottom:-4px;`
      + "border-left:2px dashed currentColor'></div>";
    const legend = parts.map(([name, value]) =>
      "<span style='white-space:nowrap;margin-right:1em'><span style='display:inline-block;width:0.8em;"
      + `height:0.8em;background:${colors[name]}'></span> ${label(name)} ${fmt.bytes(Number(value))}</span>`).join(" ");
    let verdict;
    if (total <= memory) {
      verdict = `<b style='color:#2a7d2a'>fits</b> on one ${gpu.name}: ${fmt.bytes(Number(total))} of `
        + `${fmt.bytes(memory)} (${fmt.f(Number(100n * total) / memory, 0)}%)`;
    } else {
      verdict = `<b style='color:#c0392b'>does not fit</b> on one ${gpu.name}: ${fmt.bytes(Number(total))} needs `
        + `${Math.ceil(Number(total) / memory)} GPUs' memory (${fmt.bytes(memory)} each)`;
    }
    return "<div style='position:relative;display:flex;height:1.6em;margin:6px 0;border:1px solid #888'>"
      + `${segments}${marker}</div><div>${legend}</div><p>${verdict}; dashed line: one ${gpu.name}.</p>`;
  }

  // training_time_html
  function trainingTime(numParams, tokens, gpu, dtype, mfu, numGpus, fmt) {
    const flops = 6.0 * Number(numParams) * tokens;
    const peak = gpu.peak[dtype];
    const days = flops / (peak * mfu * numGpus) / 86400;
    const aside = days < 2 ? ` (${fmt.f(24 * days, 1, true)} hours)`
      : days > 365 ? ` (${fmt.f(days / 365.25, 1, true)} years)` : "";
    return `<p>6 &times; N &times; D = 6 &times; ${fmt.g(Number(numParams), 3)} parameters &times; `
      + `${fmt.g(tokens, 3)} tokens = <b>${fmt.g(flops, 3)} FLOPs</b>. At ${fmt.f(100 * mfu, 0)}% MFU of `
      + `${numGpus} &times; ${gpu.name} (${fmt.f(peak / 1e12, 1, true)} TFLOP/s ${dtype} each): `
      + `<b>${fmt.f(days, 2, true)} days</b>${aside}.</p>`;
  }

  window.lmcourseLive.renderers.memory = function (s, data, fmt) {
    const base = data.presets[s.preset];
    let c;
    try {
      c = customConfig(base, s);
    } catch (error) {
      return `<p style='color:#c0392b'>${fmt.escape(error.message)}</p>`;
    }
    const counts = countParameters(c);
    const same = ["num_layers", "d_model", "vocab_size", "num_heads"].every(k => c[k] === base[k])
      && c.d_ff === base.d_ff && c.num_kv_heads === base.num_kv_heads;
    const model = same ? fmt.escape(s.preset)
      : `${fmt.escape(s.preset)}'s recipe resized: ${s.num_layers} layers, d_model ${s.d_model}, d_ff ${c.d_ff}, `
        + `vocab ${s.vocab_size}, ${s.num_heads} heads (${c.kv_heads} for keys and values)`;
    const active = counts.active !== counts.total ? ` (${commas(counts.active)} active per token)` : "";
    const gpu = data.gpus[s.gpu];
    return `<p>Model: ${model}, ${commas(counts.total)} parameters${active}.</p>`
      + memoryBar(trainingMemory(c, s, data), gpu, data.colors, fmt)
      + "<p><b>Training time</b></p>"
      + trainingTime(counts.active, s.tokens, gpu, data.precisions[s.precision].compute, s.mfu, s.num_gpus, fmt);
  };

  // Choosing a model fills in its shape, which the reader can then change.
  window.lmcourseLive.onchange.memory = function (root, spec, event) {
    if (!event || !event.target || event.target.dataset.control !== "preset") return;
    const choice = spec.controls.find(c => c.name === "preset");
    const preset = spec.data.presets[choice.values[Number(event.target.value)]];
    for (const name of ["num_layers", "d_model", "vocab_size", "num_heads"]) {
      root.querySelector(`[data-control="${name}"]`).value = preset[name];
    }
  };
})();
