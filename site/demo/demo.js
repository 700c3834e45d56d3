// The live demo's page: reads the name as it is typed and draws the model's answers (model code: namedemo.js).
(function () {
  "use strict";
  var text = JSON.parse(document.getElementById("demo-text").textContent);
  var input = document.getElementById("name"), uniform = document.getElementById("uniform");
  var result = document.getElementById("result"), reads = document.getElementById("reads");
  var error = document.getElementById("error"), top3 = document.getElementById("top3");
  var table = document.getElementById("steps-table"), about = document.getElementById("about-model");
  var model = null;

  // matplotlib's viridis at 9 evenly spaced points, as notebook 3's heat maps colour probabilities 0..1
  var VIRIDIS = [[68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140], [40, 174, 128],
                 [94, 201, 98], [173, 220, 48], [253, 231, 37]];
  function viridis(p) {
    var x = Math.min(Math.max(p, 0), 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(x), VIRIDIS.length - 2);
    var f = x - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + f * (b[k] - a[k])); }).join(",") + ")";
  }

  function languageName(label) { return (text.languages && text.languages[label]) || label; }
  function percent(p) { return (100 * p).toFixed(1) + "%"; }
  function element(tag, attributes, content) {
    var e = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (k) { e.setAttribute(k, attributes[k]); });
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function clear() {
    top3.replaceChildren();
    table.replaceChildren();
    reads.textContent = "";
    error.textContent = "";
  }

  function drawTop(probs) {
    var order = Array.from(probs.keys()).sort(function (a, b) { return probs[b] - probs[a] || a - b; });
    order.slice(0, 3).forEach(function (i) {
      var label = model.labels[i], p = probs[i];
      var li = element("li", { "data-label": label, "data-prob": String(p) });
      li.appendChild(element("span", { "class": "lang" }, languageName(label)));
      var bar = element("span", { "class": "bar", "role": "img", "aria-label": percent(p) });
      var fill = element("span", { "class": "fill" });
      fill.style.width = (100 * p).toFixed(2) + "%";
      bar.appendChild(fill);
      li.appendChild(bar);
      li.appendChild(element("span", { "class": "pct" }, percent(p)));
      top3.appendChild(li);
    });
  }

  function drawSteps(letters, steps) {
    var head = element("thead"), row = element("tr");
    row.appendChild(element("th", { "scope": "col" }, ""));
    Array.from(letters).forEach(function (c) { row.appendChild(element("th", { "scope": "col" }, c === " " ? "␣" : c)); });
    head.appendChild(row);
    var body = element("tbody");
    model.labels.forEach(function (label, k) {
      var tr = element("tr");
      tr.appendChild(element("th", { "scope": "row" }, languageName(label)));
      steps.forEach(function (probs, t) {
        var td = element("td", { "title": text.cellTitle.replace("{language}", languageName(label))
          .replace("{prefix}", letters.slice(0, t + 1)).replace("{p}", percent(probs[k])) });
        td.style.background = viridis(probs[k]);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var foot = element("tfoot"), answers = element("tr");
    answers.appendChild(element("th", { "class": "rowhead", "scope": "row" }, text.topAnswer));
    steps.forEach(function (probs) {
      var best = 0;
      for (var k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
      answers.appendChild(element("th", {}, languageName(model.labels[best])));
    });
    foot.appendChild(answers);
    table.append(head, body, foot);
  }

  function update() {
    if (!model) return;
    var name = input.value, tau = uniform.checked ? 1 : 0;
    clear();
    result.setAttribute("data-name", name);
    result.setAttribute("data-tau", String(tau));
    if (!name) { reads.textContent = text.hint; result.setAttribute("data-state", "empty"); return; }
    var reading = NameDemo.read(model, name, tau);
    if (reading.error) {
      error.textContent = text.errors[reading.error].replace("{max}", String(model.cleanup.max_length));
      result.setAttribute("data-state", "error-" + reading.error);
      return;
    }
    var steps = reading.logProbs.map(function (lp) { return lp.map(Math.exp); });
    reads.replaceChildren(document.createTextNode(text.reads + " "), element("code", {}, reading.letters));
    drawTop(steps[steps.length - 1]);
    drawSteps(reading.letters, steps);
    result.setAttribute("data-state", "ok");
  }

  function describe(data) {
    var info = data.checkpoint.info || {}, config = data.checkpoint.config;
    var seed = typeof info.seed === "number" ? text.seed.replace("{seed}", String(info.seed)) : "";
    var parts = [text.about.replace("{hidden}", String(config.hidden_size)).replace("{seed}", seed)];
    if (typeof info.test_accuracy === "number") {
      parts.push(text.scores.replace("{accuracy}", info.test_accuracy.toFixed(3))
        .replace("{f1}", (info.test_macro_f1 || 0).toFixed(3)));
    }
    about.textContent = parts.join(" ");
    var prior = data.class_prior, most = prior.indexOf(Math.max.apply(null, prior));
    document.getElementById("prior-note").textContent = text.priorNote
      .replace("{language}", languageName(data.labels[most])).replace("{share}", percent(prior[most]).replace(".0%", "%"));
    var source = document.getElementById("about-source");
    source.replaceChildren(document.createTextNode(text.source + " "), element("code", {}, data.checkpoint.file),
                           document.createTextNode(" (SHA-256 "), element("code", {}, data.checkpoint.sha256),
                           document.createTextNode(")."));
  }

  input.addEventListener("input", update);
  uniform.addEventListener("change", update);
  fetch("../model.json").then(function (response) {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }).then(function (data) {
    model = NameDemo.load(data);
    describe(data);
    input.disabled = false;
    uniform.disabled = false;
    document.body.setAttribute("data-ready", "true");
    update();
  }).catch(function (e) {
    error.textContent = text.loadError + " (" + e.message + ")";
    document.body.setAttribute("data-ready", "failed");
  });
})();
