// Runs the live demo's JavaScript (site/demo/namedemo.js) under Node for tests/test_demo.py.
// stdin: {"model": path of model.json, "names": [...], "forward": bool, "taus": [0, 1]}
// stdout: [{"letters": ..., "error": ..., "logProbs": {tau: [[...] per letter]}}, ...] (one per name)
import { readFileSync } from "node:fs";

// namedemo.js is a classic browser script that also exports itself under CommonJS; imported as a module,
// it sets globalThis.NameDemo
const imported = await import("../site/demo/namedemo.js");
const NameDemo = globalThis.NameDemo ?? imported.default;
const request = JSON.parse(readFileSync(0, "utf-8"));
const model = NameDemo.load(JSON.parse(readFileSync(request.model, "utf-8")));
const results = request.names.map((name) => {
  const cleaned = NameDemo.clean(model, name);
  const result = { letters: cleaned.letters ?? null, error: cleaned.error ?? null };
  if (request.forward && !cleaned.error) {
    const steps = NameDemo.prefixLogProbs(model, cleaned.indices);
    result.logProbs = {};
    for (const tau of request.taus ?? [0]) {
      result.logProbs[tau] = steps.map((lp) => Array.from(NameDemo.adjust(model, lp, tau)));
    }
  }
  return result;
});
process.stdout.write(JSON.stringify(results));
