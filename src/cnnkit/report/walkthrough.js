// cnnkit walkthrough: draws every layer's maps from the embedded data and, on a click, recomputes
// the chosen neuron from its inputs and weights (the page stores no products, only the arrays).
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("wt-data").textContent);
  const cache = {};
  const ACTIVATIONS = {
    linear: (x) => x,
    relu: (x) => Math.max(0, x),
    relu6: (x) => Math.min(6, Math.max(0, x)),
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
    softplus: (x) => Math.log1p(Math.exp(x)),
    silu: (x) => x / (1 + Math.exp(-x)),
    swish: (x) => x / (1 + Math.exp(-x)),
    exponential: Math.exp,
  };

  function array(name) {
    if (!cache[name]) {
      const entry = DATA.arrays[name];
      const text = atob(entry.b64);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      cache[name] = { shape: entry.shape, data: new Float32Array(bytes.buffer) };
    }
    return cache[name];
  }

  function fmt(x) {
    if (x === null || x === undefined) return "";
    if (x === 0) return "0";
    return Math.abs(x) >= 1e5 || Math.abs(x) < 1e-4 ? x.toExponential(4) : String(+x.toPrecision(5));
  }

  function bytesText(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(2) + " " + units[i];
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // Value of a channels-last volume at (r, c, ch) after [top, bottom, left, right] zero padding;
  // null inside the padding.
  function paddedAt(volume, padding, r, c, ch) {
    const [h, w, channels] = volume.shape;
    const rr = r - padding[0], cc = c - padding[2];
    if (rr < 0 || cc < 0 || rr >= h || cc >= w) return null;
    return volume.data[(rr * w + cc) * channels + ch];
  }

  function colour(value, scale) {
    const t = Math.max(-1, Math.min(1, value / (scale || 1)));
    const fade = Math.round(255 * (1 - Math.abs(t)));
    return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
  }

  function maxAbs(values) {
    let m = 0;
    for (const v of values) m = Math.max(m, Math.abs(v));
    return m;
  }

  // A heat map of one channel (or a wrapped vector) that reports clicks as (row, column).
  function heatmap(rows, cols, valueAt, scale, onPick, size) {
    const canvas = el("canvas", { width: cols, height: rows });
    const zoom = Math.max(2, Math.floor((size || 84) / Math.max(rows, cols)));
    canvas.style.width = cols * zoom + "px";
    canvas.style.height = rows * zoom + "px";
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(cols, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = valueAt(r, c);
        const [red, green, blue] = v === null ? [240, 240, 240] : colour(v, scale);
        const k = 4 * (r * cols + c);
        pixels.data.set([red, green, blue, 255], k);
      }
    }
    context.putImageData(pixels, 0, 0);
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      const r = Math.min(rows - 1, Math.floor(((event.clientY - box.top) / box.height) * rows));
      const c = Math.min(cols - 1, Math.floor(((event.clientX - box.left) / box.width) * cols));
      document.querySelectorAll("canvas.selected").forEach((x) => x.classList.remove("selected"));
      canvas.classList.add("selected");
      onPick(r, c);
    });
    return canvas;
  }

  function drawVolume(container, name, onPick) {
    const volume = array(name);
    const scale = maxAbs(volume.data);
    if (volume.shape.length === 3) {
      const [h, w, channels] = volume.shape;
      for (let ch = 0; ch < channels; ch++) {
        const canvas = heatmap(h, w, (r, c) => volume.data[(r * w + c) * channels + ch], scale,
          (r, c) => onPick([r, c, ch]));
        canvas.dataset.channel = ch;
        container.append(el("figure", {}, [canvas, el("figcaption", { text: "map " + ch })]));
      }
    } else {
      const n = volume.data.length;
      const cols = Math.min(n, 32), rows = Math.ceil(n / cols);
      const canvas = heatmap(rows, cols, (r, c) => (r * cols + c < n ? volume.data[r * cols + c] : null),
        scale, (r, c) => { if (r * cols + c < n) onPick([r * cols + c]); });
      container.append(el("figure", {}, [canvas, el("figcaption", { text: n + " values" })]));
    }
  }

  function grid(rows, cols, cell, chosen) {
    const body = el("tbody");
    for (let r = 0; r < rows; r++) {
      const tr = el("tr");
      for (let c = 0; c < cols; c++) {
        const v = cell(r, c);
        const td = el("td", { text: v === null ? "0" : fmt(v) });
        if (v === null) td.className = "pad";
        if (chosen && chosen(r, c)) td.classList.add("chosen");
        tr.append(td);
      }
      body.append(tr);
    }
    return el("table", { class: "grid" }, [body]);
  }

  function titled(title, node) {
    return el("div", {}, [el("div", { class: "note", text: title }), node]);
  }

  function resultLine(id, label, value) {
    const span = el("span", { id: id, class: "result", text: fmt(value) });
    span.dataset.value = String(value);
    return el("p", {}, [label, span]);
  }

  function modelLine(value, computed) {
    const span = el("span", { id: "wt-model", class: "result", text: fmt(value) });
    span.dataset.value = String(value);
    const close = Math.abs(value - computed) <= 1e-5 * Math.max(1, Math.abs(value));
    return el("p", {}, ["the model's output: ", span, " ",
      el("span", { class: close ? "ok" : "off", text: close ? "(matches)" : "(differs)" })]);
  }

  // Sum of kernel × window over every input channel for output (r, c, f); flip=true flips the
  // filter in h and w (a true convolution).
  function convSum(layer, r, c, f, flip) {
    const input = array(layer.input), kernel = array(layer.kernel);
    const [kh, kw, channels, filters] = kernel.shape;
    const sums = new Float64Array(channels);
    for (let ch = 0; ch < channels; ch++) {
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const x = paddedAt(input, layer.padding, r * layer.strides[0] + u * layer.dilation[0],
            c * layer.strides[1] + v * layer.dilation[1], ch);
          const ku = flip ? kh - 1 - u : u, kv = flip ? kw - 1 - v : v;
          if (x !== null) sums[ch] += kernel.data[((ku * kw + kv) * channels + ch) * filters + f] * x;
        }
      }
    }
    return sums;
  }

  function explainConv(layer, [r, c, f], panel) {
    const input = array(layer.input), kernel = array(layer.kernel);
    const [kh, kw, channels, filters] = kernel.shape;
    const sums = convSum(layer, r, c, f, false);
    const total = sums.reduce((a, b) => a + b, 0);
    const bias = layer.bias ? array(layer.bias).data[f] : 0;
    const z = total + bias;
    const act = ACTIVATIONS[layer.activation];
    const out = array(layer.output), [, w, outChannels] = out.shape;
    const model = out.data[(r * w + c) * outChannels + f];
    const r0 = r * layer.strides[0], c0 = c * layer.strides[1];
    const pick = el("select", { id: "wt-channel" });
    for (let ch = 0; ch < channels; ch++) pick.append(el("option", { value: ch, text: "input channel " + ch }));
    const tables = el("div", { class: "tables" });
    const showChannel = (ch) => {
      const win = (u, v) => paddedAt(input, layer.padding, r0 + u * layer.dilation[0], c0 + v * layer.dilation[1], ch);
      const k = (u, v) => kernel.data[((u * kw + v) * channels + ch) * filters + f];
      tables.replaceChildren(
        titled("padded input, channel " + ch + " (window outlined)", paddedCanvas(layer, input, ch, r0, c0, kh, kw)),
        titled("input window x (hatched: zero padding)", grid(kh, kw, win)),
        titled("kernel w of filter " + f, grid(kh, kw, k)),
        titled("products w · x", grid(kh, kw, (u, v) => (win(u, v) === null ? null : win(u, v) * k(u, v)))),
        el("p", { text: "channel " + ch + " sum: " + fmt(sums[ch]) }));
    };
    pick.addEventListener("change", () => showChannel(+pick.value));
    showChannel(0);
    const perChannel = Array.from(sums, (s, ch) => "c" + ch + ": " + fmt(s)).join(", ");
    const flipped = convSum(layer, r, c, f, true).reduce((a, b) => a + b, 0) + bias;
    panel.replaceChildren(
      el("h2", { text: layer.name + ": row " + r + ", column " + c + ", map " + f }),
      el("p", { class: "formula", text: "a(" + r + ", " + c + ") = " + layer.activation +
        "(Σ over " + channels + " channels and " + kh + "×" + kw + " positions of w · x + b)" }),
      pick, tables,
      el("p", { class: "note", text: "sum per input channel: " + perChannel }),
      resultLine("wt-products", "Σ products over all channels = ", total),
      resultLine("wt-bias", layer.bias ? "bias b = " : "no bias (use_bias=False): b = ", bias),
      resultLine("wt-sum", "sum + bias z = ", z),
      resultLine("wt-activation", layer.activation + "(z) = ", act ? act(z) : model),
      modelLine(model, act ? act(z) : model),
      el("p", { class: "note", text: "With the filter flipped (a true convolution) this neuron's z would be " +
        fmt(flipped) + " instead of " + fmt(z) + "." }));
    showFlip(layer, f);
  }

  function paddedCanvas(layer, input, ch, r0, c0, kh, kw) {
    const [h, w] = input.shape, p = layer.padding;
    const rows = h + p[0] + p[1], cols = w + p[2] + p[3];
    const span = [(kh - 1) * layer.dilation[0] + 1, (kw - 1) * layer.dilation[1] + 1];
    const scale = maxAbs(input.data);
    const canvas = heatmap(rows, cols, (r, c) => paddedAt(input, p, r, c, ch), scale, () => {}, 180);
    const zoom = parseInt(canvas.style.width, 10) / cols;
    const box = el("div", {}, [canvas]);
    box.style.position = "relative";
    const frame = el("div");
    Object.assign(frame.style, { position: "absolute", border: "2px solid #c0392b",
      left: c0 * zoom + "px", top: r0 * zoom + "px", width: span[1] * zoom - 2 + "px",
      height: span[0] * zoom - 2 + "px", pointerEvents: "none" });
    box.append(frame);
    return box;
  }

  function explainPool(layer, [r, c, ch], panel) {
    const input = array(layer.input), out = array(layer.output);
    const [ph, pw] = layer.pool_size, r0 = r * layer.strides[0], c0 = c * layer.strides[1];
    const values = [];
    for (let u = 0; u < ph; u++) for (let v = 0; v < pw; v++) {
      const x = paddedAt(input, layer.padding, r0 + u, c0 + v, ch);
      if (x !== null) values.push(x);
    }
    const value = layer.mode === "max" ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
    const chosen = layer.mode === "max" ? (u, v) => paddedAt(input, layer.padding, r0 + u, c0 + v, ch) === value : null;
    const model = out.data[(r * out.shape[1] + c) * out.shape[2] + ch];
    panel.replaceChildren(
      el("h2", { text: layer.name + ": row " + r + ", column " + c + ", map " + ch }),
      titled("window (" + ph + "×" + pw + ", stride " + layer.strides.join("×") + ")",
        grid(ph, pw, (u, v) => paddedAt(input, layer.padding, r0 + u, c0 + v, ch), chosen)),
      resultLine("wt-pool", (layer.mode === "max" ? "max" : "mean of " + values.length + " values") + " = ", value),
      modelLine(model, value));
  }

  function softmax(values) {
    const top = Math.max(...values);
    const exps = values.map((v) => Math.exp(v - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  }

  function denseZ(layer, j) {
    const x = array(layer.input).data, kernel = array(layer.kernel), units = kernel.shape[1];
    const terms = Array.from(x, (xi, i) => [i, xi, kernel.data[i * units + j], xi * kernel.data[i * units + j]]);
    const bias = layer.bias ? array(layer.bias).data[j] : 0;
    return { terms, bias, z: terms.reduce((a, t) => a + t[3], 0) + bias };
  }

  function explainDense(layer, [j], panel) {
    const out = array(layer.output).data;
    const { terms, bias, z } = denseZ(layer, j);
    const top = terms.slice().sort((a, b) => Math.abs(b[3]) - Math.abs(a[3])).slice(0, 10);
    const rows = top.map(([i, xi, wij, p]) => el("tr", {}, [i, fmt(xi), fmt(wij), fmt(p)].map((t) => el("td", { text: t }))));
    const head = el("tr", {}, ["input i", "x_i", "w_ij", "x_i · w_ij"].map((t) => el("th", { text: t })));
    const parts = [
      el("h2", { text: layer.name + ": unit " + j }),
      el("p", { class: "formula", text: "z_j = Σ_i x_i · w_ij + b_j over " + terms.length + " inputs" }),
      titled("largest contributions", el("table", { id: "wt-contributions" }, [el("thead", {}, [head]), el("tbody", {}, rows)])),
      resultLine("wt-bias", "bias b = ", bias), resultLine("wt-sum", "sum + bias z = ", z)];
    if (layer.activation === "softmax") {
      const logits = Array.from({ length: out.length }, (_, k) => denseZ(layer, k).z);
      const p = softmax(logits);
      const order = p.map((v, k) => k).sort((a, b) => p[b] - p[a]);
      const names = DATA.class_names || [];
      const probs = order.map((k) => el("tr", {}, [names[k] || String(k), fmt(logits[k]), fmt(p[k])].map((t) => el("td", { text: t }))));
      const probHead = el("tr", {}, ["class", "logit z", "probability e^z / Σ e^z"].map((t) => el("th", { text: t })));
      parts.push(resultLine("wt-activation", "softmax(z)_" + j + " = ", p[j]), modelLine(out[j], p[j]),
        titled("probabilities", el("table", { id: "wt-probabilities" }, [el("thead", {}, [probHead]), el("tbody", {}, probs)])));
    } else {
      const act = ACTIVATIONS[layer.activation];
      parts.push(resultLine("wt-activation", layer.activation + "(z) = ", act ? act(z) : out[j]), modelLine(out[j], act ? act(z) : out[j]));
    }
    panel.replaceChildren(...parts);
  }

  function explainOther(layer, position, panel) {
    const input = array(layer.input), out = array(layer.output);
    const index = position.length === 3 ? (position[0] * out.shape[1] + position[1]) * out.shape[2] + position[2] : position[0];
    const parts = [el("h2", { text: layer.name + " (" + layer.class_name + "): position " + position.join(", ") })];
    if (input.data.length === out.data.length) {
      parts.push(resultLine("wt-input", "input value (same position in reading order) = ", input.data[index]));
    }
    const value = out.data[index];
    const span = el("span", { id: "wt-model", class: "result", text: fmt(value) });
    span.dataset.value = String(value);
    parts.push(el("p", {}, ["output value: ", span]));
    panel.replaceChildren(...parts);
  }

  function showFlip(layer, f) {
    const kernel = array(layer.kernel), [kh, kw, channels, filters] = kernel.shape;
    const k = (u, v) => kernel.data[((u * kw + v) * channels) * filters + f];
    document.getElementById("wt-flip").replaceChildren(
      titled(layer.name + ", filter " + f + ", channel 0: w as learned (used as is: correlation)", grid(kh, kw, k)),
      titled("w flipped in h and w (what a convolution would apply)", grid(kh, kw, (u, v) => k(kh - 1 - u, kw - 1 - v))));
  }

  const EXPLAIN = { conv: explainConv, pool: explainPool, dense: explainDense, other: explainOther };

  function select(index, position) {
    const layer = DATA.layers[index], panel = document.getElementById("wt-detail");
    panel.dataset.layer = index;
    panel.dataset.position = position.join(",");
    EXPLAIN[layer.kind](layer, position, panel);
  }

  function updateMemory() {
    const batch = Math.max(1, parseInt(document.getElementById("wt-batch").value, 10) || 1);
    let total = 0;
    document.querySelectorAll("td.mem").forEach((cell) => {
      const bytes = Number(cell.dataset.bytes) * batch;
      total += bytes;
      cell.textContent = (Number(cell.dataset.bytes) / 4).toLocaleString("en") + " values × 4 B × " +
        batch + " = " + bytes.toLocaleString("en") + " B (" + bytesText(bytes) + ")";
    });
    document.getElementById("wt-total").textContent = total.toLocaleString("en") + " B (" + bytesText(total) + ")";
  }

  drawVolume(document.querySelector("#layer-input .maps"), "image", () => {});
  DATA.layers.forEach((layer, index) => {
    drawVolume(document.querySelector("#layer-" + index + " .maps"), layer.output, (p) => select(index, p));
  });
  const firstConv = DATA.layers.find((layer) => layer.kind === "conv");
  if (firstConv) showFlip(firstConv, 0);
  document.getElementById("wt-batch").addEventListener("input", updateMemory);
  updateMemory();
  window.walkthrough = { select, data: DATA };
})();
