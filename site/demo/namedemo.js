// The live demo's model: notebook 3's hand-written RNN run in plain JavaScript (float64), from model.json.
// PyTorch is the model's only definition (rnn_tutorial/rnn.py); this file repeats its forward pass
// for one name, and tests/test_demo.py checks it against PyTorch on every prefix of every test name:
//   H_t = tanh(W_xh[x_t] + b_h + H_{t-1} W_hh),  H_0 = 0
//   readout "max": m_t = max(H_1, ..., H_t) element-wise;  "last": m_t = H_t
//   log p_t = log_softmax(m_t W_out^T + b_out)   (the answer if the name ended after letter t)
// The name is cleaned with Python's own tables exported into model.json (see rnn_tutorial/export.py).
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.NameDemo = factory();
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";
  var FORMAT = 1;

  function decodeFloat32(base64, shape) {
    var binary = typeof atob === "function" ? atob(base64) : Buffer.from(base64, "base64").toString("binary");
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var view = new DataView(bytes.buffer), n = bytes.length / 4, values = new Float64Array(n);
    for (var j = 0; j < n; j++) values[j] = view.getFloat32(4 * j, true);
    var expected = shape.reduce(function (a, b) { return a * b; }, 1);
    if (expected !== n) throw new Error("weight of shape " + shape + " holds " + n + " numbers");
    return values;
  }

  // model.json (parsed) -> a model object: weights as Float64Arrays (row-major), labels, cleanup tables.
  function load(data) {
    if (data.format !== FORMAT) throw new Error("model.json has format " + data.format + ", this page reads " + FORMAT);
    var config = data.checkpoint.config;
    if (config.core !== "hand" || (config.readout !== "max" && config.readout !== "last")) {
      throw new Error("the demo runs the hand-written RNN with a max or last readout, not " + JSON.stringify(config));
    }
    var w = {};
    Object.keys(data.weights).forEach(function (name) {
      w[name] = decodeFloat32(data.weights[name].float32, data.weights[name].shape);
    });
    var cleanup = data.cleanup, whitespace = new Set(cleanup.whitespace), fold = new Map(), index = new Map();
    Object.keys(cleanup.fold).forEach(function (code) { fold.set(Number(code), cleanup.fold[code]); });
    Array.from(data.alphabet).forEach(function (c, i) { index.set(c, i); });
    return {
      data: data, labels: data.labels, alphabet: data.alphabet, prior: data.class_prior,
      hidden: config.hidden_size, inputs: data.alphabet.length, readout: config.readout,
      W_xh: w.W_xh, W_hh: w.W_hh, b_h: w.b_h, W_out: w.W_out, b_out: w.b_out,
      whitespace: whitespace, fold: fold, index: index, cleanup: cleanup,
    };
  }

  // Python's data.letter_indices (with inference.MAX_NAME_LENGTH):
  // -> {letters: "Kowalski", indices: [...]} or {error: "long" | "empty" | "noletters"}.
  function clean(model, name) {
    var chars = Array.from(name);  // code points, as Python's len() counts them
    if (chars.length > model.cleanup.max_length) return { error: "long", length: chars.length };
    var isSpace = function (c) { return model.whitespace.has(c.codePointAt(0)); };
    if (chars.every(isSpace)) return { error: "empty" };
    // fold_to_ascii, then hyphens -> spaces
    var folded = [];
    chars.forEach(function (c) {
      var f = model.fold.get(c.codePointAt(0));
      Array.from(f === undefined ? c : f).forEach(function (x) { folded.push(x === model.cleanup.hyphen ? " " : x); });
    });
    // " ".join(folded.split()): runs of whitespace -> one space, none at the ends
    var words = [], word = [];
    folded.forEach(function (c) {
      if (isSpace(c)) { if (word.length) { words.push(word.join("")); word = []; } }
      else word.push(c);
    });
    if (word.length) words.push(word.join(""));
    var normal = Array.from(words.join(" ")), start = 0, end = normal.length;
    var stripped = model.cleanup.stripped;
    while (start < end && stripped.indexOf(normal[start]) >= 0) start++;
    while (end > start && stripped.indexOf(normal[end - 1]) >= 0) end--;
    var kept = normal.slice(start, end).filter(function (c) { return model.index.has(c); });
    if (!kept.some(function (c) { return /^[A-Za-z]$/.test(c); })) return { error: "noletters" };
    return { letters: kept.join(""), indices: kept.map(function (c) { return model.index.get(c); }) };
  }

  function logSoftmax(z) {
    var max = -Infinity, i;
    for (i = 0; i < z.length; i++) if (z[i] > max) max = z[i];
    var sum = 0;
    for (i = 0; i < z.length; i++) sum += Math.exp(z[i] - max);
    var log = max + Math.log(sum), out = new Float64Array(z.length);
    for (i = 0; i < z.length; i++) out[i] = z[i] - log;
    return out;
  }

  // Letter indices -> the log-probabilities after every letter: [log p_1, ..., log p_T], each (n_labels).
  function prefixLogProbs(model, indices) {
    var H = model.hidden, L = model.labels.length, h = new Float64Array(H), m = new Float64Array(H).fill(-Infinity);
    var out = [];
    indices.forEach(function (x) {
      var next = new Float64Array(H), i, j;
      for (j = 0; j < H; j++) next[j] = model.W_xh[x * H + j] + model.b_h[j];
      for (i = 0; i < H; i++) {
        var hi = h[i];
        if (hi === 0) continue;
        for (j = 0; j < H; j++) next[j] += hi * model.W_hh[i * H + j];
      }
      for (j = 0; j < H; j++) { next[j] = Math.tanh(next[j]); if (next[j] > m[j]) m[j] = next[j]; }
      h = next;
      var read = model.readout === "max" ? m : h, z = new Float64Array(L);
      for (var k = 0; k < L; k++) {
        var s = model.b_out[k];
        for (j = 0; j < H; j++) s += model.W_out[k * H + j] * read[j];
        z[k] = s;
      }
      out.push(logSoftmax(z));
    });
    return out;
  }

  // inference.adjust_logits: log_softmax(log p - tau * log prior); tau = 1: every language equally common.
  function adjust(model, logProbs, tau) {
    if (!tau) return logProbs;
    var z = new Float64Array(logProbs.length);
    for (var k = 0; k < z.length; k++) z[k] = logProbs[k] - tau * Math.log(model.prior[k]);
    return logSoftmax(z);
  }

  // [[label, probability], ...] for the k most likely labels (like inference.predict).
  function top(model, logProbs, k) {
    var order = Array.from(logProbs.keys()).sort(function (a, b) { return logProbs[b] - logProbs[a] || a - b; });
    return order.slice(0, k).map(function (i) { return [model.labels[i], Math.exp(logProbs[i])]; });
  }

  // The whole reading of one name: the cleaned letters, the answers after each letter (probabilities), or the error.
  function read(model, name, tau) {
    var cleaned = clean(model, name);
    if (cleaned.error) return cleaned;
    var steps = prefixLogProbs(model, cleaned.indices).map(function (lp) { return adjust(model, lp, tau); });
    return { letters: cleaned.letters, indices: cleaned.indices, logProbs: steps };
  }

  return { FORMAT: FORMAT, load: load, clean: clean, prefixLogProbs: prefixLogProbs, adjust: adjust, top: top, read: read };
});
