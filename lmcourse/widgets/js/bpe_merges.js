// The BPE merge explorer's panel in the browser: lmcourse.widgets.bpe_merges.bpe_panel_html, with
// what it calls ported: lmcourse.tokenizer.naive (bpe_steps, byte_words, merge_pieces) and the GPT-2
// pre-tokenizer of lmcourse.tokenizer.pretokenize (data: the special tokens, the length cap).
//
// A token is a "byte string": a JavaScript string whose characters are the token's bytes (0-255).
// Comparing two with < then compares their bytes lexicographically, as Python compares bytes, which
// the tie-break between equally frequent pairs depends on.
(function () {
  const live = window.lmcourseLive;

  // GPT2_SPLIT_PATTERN, '(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, with
  // its classes spelled out from data.classes: the code points Python's `regex` puts in them
  // (lmcourse.widgets.bpe_merges.unicode_classes). The browser's \p{L} and \p{N} follow an older
  // Unicode than `regex`, and its \s is not `regex`'s (it adds U+FEFF and lacks U+0085).
  const splits = new WeakMap();  // data.classes -> the pattern
  function gpt2Split(classes) {
    if (!splits.has(classes)) {
      const [L, N, S] = ["L", "N", "White_Space"].map(name => classes[name].map(([first, last]) =>
        `\\u{${first.toString(16)}}-\\u{${last.toString(16)}}`).join(""));
      splits.set(classes, new RegExp(`'(?:[sdmt]|ll|ve|re)| ?[${L}]+| ?[${N}]+| ?[^${S}${L}${N}]+`
                                     + `|[${S}]+(?![^${S}])|[${S}]+`, "gu"));
    }
    return splits.get(classes);
  }

  // pretokenize: [piece, mergeable] in order; a special token is one unmergeable piece. Longer special
  // tokens are tried first, so of two overlapping ones the longer wins (special_token_pattern).
  function pretokenize(text, specialTokens, classes) {
    const pieces = [];
    const split = gpt2Split(classes);
    const ordinary = segment => {
      for (const m of segment.matchAll(split)) pieces.push([m[0], true]);
    };
    let start = 0;
    if (specialTokens.length) {
      const ordered = [...new Set(specialTokens)].sort((a, b) => [...b].length - [...a].length);
      const special = new RegExp(ordered.map(t => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|"), "gu");
      for (const m of text.matchAll(special)) {
        if (m.index > start) ordinary(text.slice(start, m.index));
        pieces.push([m[0], false]);
        start = m.index + m[0].length;
      }
    }
    if (start < text.length) ordinary(text.slice(start));
    return pieces;
  }

  const encoder = new TextEncoder();
  function byteString(text) {
    let out = "";
    for (const b of encoder.encode(text)) out += String.fromCharCode(b);
    return out;
  }

  // byte_words: each piece as {tokens, mergeable}, its tokens single bytes unless it is special.
  function byteWords(text, specialTokens, classes) {
    return pretokenize(text, specialTokens, classes).map(([piece, mergeable]) => {
      const bytes = byteString(piece);
      return {mergeable, tokens: mergeable ? [...bytes] : [bytes]};
    });
  }

  // merge_pieces: each non-overlapping occurrence of the pair, left to right, becomes one token.
  function mergePieces(pieces, [a, b]) {
    const out = [];
    for (let i = 0; i < pieces.length; i++) {
      if (i + 1 < pieces.length && pieces[i] === a && pieces[i + 1] === b) {
        out.push(a + b);
        i++;
      } else {
        out.push(pieces[i]);
      }
    }
    return out;
  }

  // Python's pair < pair for (bytes, bytes) tuples.
  const pairLess = (p, q) => p[0] < q[0] || (p[0] === q[0] && p[1] < q[1]);

  // bpe_steps, resumable: state.steps gets the steps {counts: Map(key -> {pair, count}), merge, newToken,
  // tokens} up to numMerges of them, state.words the pieces after the last; state.done once no pair is left.
  function train(state, numMerges) {
    while (state.steps.length < numMerges && !state.done) {
      const counts = new Map();
      for (const {tokens, mergeable} of state.words) {
        if (!mergeable) continue;
        for (let i = 0; i + 1 < tokens.length; i++) {
          const key = tokens[i] + "\u0100" + tokens[i + 1];  // U+0100 is in no byte string
          const entry = counts.get(key);
          if (entry) entry.count++;
          else counts.set(key, {pair: [tokens[i], tokens[i + 1]], count: 1});
        }
      }
      if (!counts.size) {
        state.done = true;
        break;
      }
      let best = null;  // max by (count, pair)
      for (const entry of counts.values()) {
        if (!best || entry.count > best.count || (entry.count === best.count && pairLess(best.pair, entry.pair))) {
          best = entry;
        }
      }
      state.words = state.words.map(w => w.mergeable ? {mergeable: true, tokens: mergePieces(w.tokens, best.pair)} : w);
      state.steps.push({counts, merge: best.pair, newToken: best.pair[0] + best.pair[1],
                        tokens: state.words.flatMap(w => w.tokens)});
    }
    return state.steps.slice(0, numMerges);
  }

  // The training of the last text drawn, so that moving the slider only trains the steps not made yet.
  let cached = {key: null};
  function trainingOf(text, specialTokens, classes) {
    const key = JSON.stringify([text, specialTokens]);
    if (cached.key !== key || cached.classes !== classes) {
      const words = byteWords(text, specialTokens, classes);
      cached = {key, classes, start: words, words, steps: [], done: false};
    }
    return cached;
  }

  // show_token: strict UTF-8 (a BOM kept, as Python keeps it), else \xNN for the bytes >= 0x80.
  const decoder = new TextDecoder("utf-8", {fatal: true, ignoreBOM: true});
  function showToken(token) {
    let text;
    try {
      text = decoder.decode(Uint8Array.from(token, c => c.charCodeAt(0)));
    } catch (error) {
      text = token.replace(/[\x80-\xff]/g, c => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
    }
    return text.replaceAll(" ", "␣").replaceAll("\n", "↵");
  }

  function chip(token, extra, fmt) {
    return `<code style='background:#eef;color:#1f2328;${extra}'>${fmt.escape(showToken(token))}</code>`;
  }

  const tokenLine = (tokens, fmt) => tokens.map(t => chip(t, "margin:1px", fmt)).join(" ");

  function describeStart(words, fmt) {
    const tokens = words.flatMap(w => w.tokens);
    return `<p><b>Step 0</b>: the text as ${tokens.length} byte tokens</p><p>${tokenLine(tokens, fmt)}</p>`;
  }

  function describeStep(steps, k, fmt, top = 8) {
    const step = steps[k - 1];
    const bold = ' style="font-weight:bold"';
    const ranked = [...step.counts.values()]  // most frequent first, ties: the greater pair first
      .sort((x, y) => y.count - x.count || (pairLess(x.pair, y.pair) ? 1 : -1)).slice(0, top);
    const rows = ranked.map(({pair, count}) =>
      `<tr${pair[0] === step.merge[0] && pair[1] === step.merge[1] ? bold : ""}>`
      + `<td>${chip(pair[0], "", fmt)} + ${chip(pair[1], "", fmt)}</td>`
      + `<td style='text-align:right'>${count}</td></tr>`).join("");
    return `<p><b>Step ${k}</b>: merge ${chip(step.merge[0], "", fmt)} + `
      + `${chip(step.merge[1], "", fmt)} → new token `
      + `${chip(step.newToken, "", fmt)} (id ${255 + k})</p>`
      + `<table><tr><th>pair</th><th>count</th></tr>${rows}</table>`
      + `<p>${step.tokens.length} tokens after this merge:</p><p>${tokenLine(step.tokens, fmt)}</p>`;
  }

  live.renderers.bpe_merges = function ({text, step}, data, fmt) {
    const length = [...text].length;  // characters, as Python's len counts them
    if (length > data.max_chars) {
      return `<p class='lmcourse-live-error'>The text has ${fmt.f(length, 0, true)} characters; the explorer `
        + `trains on at most ${fmt.f(data.max_chars, 0, true)}, so that it keeps up with your typing. `
        + "Shorten it.</p>";
    }
    const training = trainingOf(text, data.special_tokens, data.classes);
    if (step === 0) return describeStart(training.start, fmt);
    const steps = train(training, step);
    if (steps.length === step) return describeStep(steps, step, fmt);
    const tokens = steps.length ? steps[steps.length - 1].tokens : training.start.flatMap(w => w.tokens);
    const done = `${steps.length} merge${steps.length === 1 ? "" : "s"}`;
    return `<p><b>Step ${step}</b>: no adjacent pair left to merge after ${done}: every pre-token is a `
      + "single token now. Type more text for more merges.</p>"
      + `<p>${tokens.length} tokens:</p><p>${tokenLine(tokens, fmt)}</p>`;
  };
})();
