// The runtime of lmcourse's live widgets (lmcourse/widgets/_live.py): reads a widget's controls,
// calls its renderer and shows the panel. It runs wherever the output's HTML runs scripts: the
// static book, JupyterLab, Colab. Every widget output carries this file, so it defines itself once.
//
// `fmt` reproduces the Python format specs the panels use (f"{x:.3g}", f"{x:,.1f}") digit for
// digit, rounding half to even on the exact decimal value of the double as Python does, so a
// panel drawn here is the same string as the one the package draws in Python.
(function () {
  if (window.lmcourseLive) return;

  // The exact decimal digits of a finite double x >= 0, as [integer part, fraction part]: x is
  // mantissa * 2^exponent, and 2^-k = 5^k / 10^k, so the digits are BigInt arithmetic.
  function exactDigits(x) {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const bits = view.getBigUint64(0);
    const biased = Number((bits >> 52n) & 0x7ffn);
    let mantissa = bits & ((1n << 52n) - 1n);
    let exponent = -1074;  // subnormal
    if (biased > 0) {
      mantissa |= 1n << 52n;
      exponent = biased - 1075;
    }
    if (exponent >= 0) return [(mantissa << BigInt(exponent)).toString(), ""];
    const places = -exponent;
    const digits = (mantissa * 5n ** BigInt(places)).toString().padStart(places + 1, "0");
    return [digits.slice(0, digits.length - places), digits.slice(digits.length - places)];
  }

  // digits rounded to their first `keep` digits, half to even; may grow by one digit (999 -> 1000).
  function roundDigits(digits, keep) {
    if (keep >= digits.length) return digits.padEnd(keep, "0");
    if (keep < 0) return "0";
    const next = digits.charCodeAt(keep) - 48;
    const rest = /[1-9]/.test(digits.slice(keep + 1));
    const last = keep > 0 ? digits.charCodeAt(keep - 1) - 48 : 0;
    let head = digits.slice(0, keep);
    if (next > 5 || (next === 5 && (rest || last % 2 === 1))) {
      const up = (BigInt(head || "0") + 1n).toString();
      head = up.padStart(keep, "0");
    }
    return head;
  }

  function group(whole) {
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function sign(x) {
    return x < 0 || Object.is(x, -0) ? "-" : "";
  }

  // Python's f"{x:.{p}f}" (and f"{x:,.{p}f}" with comma = true).
  function f(x, p, comma = false) {
    if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : sign(x) + "inf";
    const [whole, fraction] = exactDigits(Math.abs(x));
    const kept = roundDigits(whole + fraction, whole.length + p);
    const intPart = kept.slice(0, kept.length - p).replace(/^0+(?=\d)/, "") || "0";
    const fracPart = p > 0 ? "." + kept.slice(kept.length - p) : "";
    return sign(x) + (comma ? group(intPart) : intPart) + fracPart;
  }

  // Python's f"{x:.{p}g}" (p = 6 for f"{x:g}").
  function g(x, p = 6) {
    if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : sign(x) + "inf";
    p = Math.max(p, 1);
    if (x === 0) return sign(x) + "0";
    const [whole, fraction] = exactDigits(Math.abs(x));
    const all = whole + fraction;
    const first = all.search(/[1-9]/);
    let exponent = whole.length - 1 - first;
    let digits = roundDigits(all.slice(first), p);
    if (digits.length > p) {  // rounded up to the next power of ten
      digits = digits.slice(0, p);
      exponent += 1;
    }
    const strip = s => s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
    let body;
    if (exponent >= -4 && exponent < p) {
      if (exponent >= 0) {
        body = digits.slice(0, exponent + 1) + "." + digits.slice(exponent + 1);
      } else {
        body = "0." + "0".repeat(-exponent - 1) + digits;
      }
      body = strip(body);
    } else {
      const mantissa = strip(digits[0] + "." + digits.slice(1));
      const e = Math.abs(exponent).toString().padStart(2, "0");
      body = mantissa + "e" + (exponent < 0 ? "-" : "+") + e;
    }
    return sign(x) + body;
  }

  // lmcourse.widgets.memory.format_bytes: decimal units, as GPU memory is sold.
  function bytes(n) {
    for (const [unit, size] of [["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]]) {
      if (n >= size) return `${f(n / size, 1, true)} ${unit}`;
    }
    return `${f(n, 0, true)} B`;
  }

  // html.escape(s) of Python: & < > " '
  function escape(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  // The settings the controls show now: {name: value}; a value a control cannot hold raises an Error
  // naming the control.
  function settings(root, spec) {
    const values = {};
    for (const control of spec.controls) {
      const input = root.querySelector(`[data-control="${control.name}"]`);
      if (control.kind === "checkbox") {
        values[control.name] = input.checked;
      } else if (control.kind === "number") {
        const raw = input.value.trim();
        const value = Number(raw);
        const wanted = control.integer ? "an integer" : "a number";
        if (raw === "" || !Number.isFinite(value) || (control.integer && !Number.isInteger(value))
            || value < control.min || value > control.max) {
          throw new Error(`${control.label}: ${raw === "" ? "empty" : raw}; expected ${wanted} from `
                          + `${control.min} to ${control.max}`);
        }
        values[control.name] = value;
      } else if (control.kind === "text") {
        values[control.name] = input.value;
      } else {  // select and slider hold an index into the control's values
        values[control.name] = control.values[Number(input.value)];
      }
    }
    return values;
  }

  function update(root, spec, event) {
    if (event && event.target && event.target.matches('input[type="range"]')) {
      const control = spec.controls.find(c => c.name === event.target.dataset.control);
      root.querySelector(`[data-readout="${control.name}"]`).textContent = control.labels[Number(event.target.value)];
    }
    const panel = root.querySelector(".lmcourse-live-panel");
    try {
      if (spec.onchange) spec.onchange(root, spec, event);  // e.g. offer only the dtypes a GPU has
      panel.innerHTML = live.renderers[spec.renderer](settings(root, spec), spec.data, live.fmt);
    } catch (error) {
      panel.innerHTML = `<p class="lmcourse-live-error">${escape(error.message)}</p>`;
    }
  }

  function mount(root) {
    const spec = JSON.parse(root.querySelector("script.lmcourse-live-spec").textContent);
    if (!live.renderers[spec.renderer]) return;
    root.dataset.mounted = "1";
    spec.onchange = live.onchange[spec.renderer];
    const handler = event => update(root, spec, event);
    root.addEventListener("input", handler);
    root.addEventListener("change", handler);
  }

  const live = {
    fmt: {f, g, bytes, escape}, renderers: {}, onchange: {},
    mountAll() {
      document.querySelectorAll(".lmcourse-live:not([data-mounted])").forEach(mount);
    },
    settings,
  };
  window.lmcourseLive = live;
})();
