// Browser test of the live demo: typing names into both editions' pages shows the same top three and
// probabilities (within 1e-5) as the package's `predict`, with and without the uniform-prior switch.
//   node tests/browser/demo.mjs [SITE_DIR]   (default: build/site if it holds the demo, else site/, the sources)
// Expected answers come from Python ($PYTHON, else .venv/bin/python): `predict` on the checkpoint model.json
// came from when that file is in models/ with the same SHA-256, else on model.json's weights loaded back into
// the package's SequenceClassifier. DEMO_SCREENSHOT=path.png saves the English page after typing "Kowalski".
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser, requireBrowser, serveSite, watchPage } from "./launch.mjs";

const NAME = "demo browser test";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TOLERANCE = 1e-5;
const NAMES = [
  "Kowalski", "Müller", "Ślusàrski", "Nguyễn", "Smith-Jones", "Müller-Lüdenscheidt", "O'Neill", "D'Angelo",
  "d’Artagnan", "K", "é", "Wolfeschlegelsteinha", "Abcdefghijklmnopqrst", "Zhang", "Nakamura",
];
const REFUSED = ["123", " - ", "李"];  // no letter of the alphabet: the page shows an error, predict raises
const EXPECTED_PY = `
import hashlib, json, sys
from pathlib import Path
import torch
from rnn_tutorial.checkpoints import load_checkpoint
from rnn_tutorial.export import model_from_json
from rnn_tutorial.data import ALPHABET
from rnn_tutorial.inference import encode_name, predict
data = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
checkpoint = Path("models") / data["checkpoint"]["file"]
if checkpoint.is_file() and hashlib.sha256(checkpoint.read_bytes()).hexdigest() == data["checkpoint"]["sha256"]:
    loaded = load_checkpoint(checkpoint)
    model, prior, source = loaded.model, loaded.class_prior, "the checkpoint " + str(checkpoint)
else:
    model, prior, source = model_from_json(data), torch.tensor(data["class_prior"]), "model.json's weights"
names = json.load(sys.stdin)
def answer(name):
    try:
        letters = "".join(ALPHABET[i] for i in encode_name(name))
    except ValueError as e:
        return {"refused": str(e)}
    return {"letters": letters, "top": {str(tau): predict(model, name, k=3, prior=prior, tau=tau) for tau in (0, 1)}}
print(json.dumps({"source": source, "expected": {name: answer(name) for name in names}}))
`;

async function main() {
  await requireBrowser(NAME);  // one line and exit 0 without Chromium or playwright-core
  const built = join(ROOT, "build", "site");
  const siteDir = resolve(process.argv[2] ?? (existsSync(join(built, "demo", "model.json")) ? built : join(ROOT, "site")));
  const python = process.env.PYTHON ?? join(ROOT, ".venv", "bin", "python");
  const { source, expected } = JSON.parse(execFileSync(python, ["-c", EXPECTED_PY, join(siteDir, "demo", "model.json")],
    { cwd: ROOT, input: JSON.stringify([...NAMES, ...REFUSED]), encoding: "utf-8", maxBuffer: 1 << 24 }));
  console.log(`demo: ${siteDir}/demo; expected answers from predict on ${source}`);

  const server = await serveSite(siteDir);
  const browser = await openBrowser(NAME);
  const failures = [];
  let worst = 0, checks = 0;
  try {
    for (const edition of ["en", "zh"]) {
      const page = await browser.context.newPage();
      const problems = watchPage(page);
      await page.goto(`${server.origin}/demo/${edition}/index.html`);
      const ready = await page.waitForSelector("body[data-ready]", { state: "attached", timeout: 60_000 })
        .then(() => page.getAttribute("body", "data-ready"), () => "timeout");
      if (ready !== "true") {
        failures.push(`${edition}: the model did not load (${ready}); ${problems.join("; ")}`);
        await page.close();
        continue;
      }
      const input = page.locator("#name"), uniform = page.locator("#uniform");
      for (const name of NAMES) {
        for (const tau of [0, 1]) {
          if ((await uniform.isChecked()) !== (tau === 1)) await uniform.click();
          await input.fill("");
          await input.pressSequentially(name);  // one key (input event) per character
          await page.waitForFunction(([n, t]) => {
            const r = document.getElementById("result");
            return r.dataset.name === n && r.dataset.tau === t && r.dataset.state !== "loading";
          }, [name, String(tau)]);
          const columns = await page.$$eval("#steps-table thead th", (cells) => cells.length - 1);
          if (columns !== expected[name].letters.length) {
            failures.push(`${edition} ${JSON.stringify(name)}: ${columns} columns for ${expected[name].letters.length} letters`);
          }
          const shown = await page.$$eval("#top3 li", (items) => items.map((li) => [li.dataset.label, Number(li.dataset.prob)]));
          const want = expected[name].top[String(tau)];
          const labels = (pairs) => pairs.map(([label]) => label).join(", ");
          if (labels(shown) !== labels(want)) {
            failures.push(`${edition} ${JSON.stringify(name)} tau=${tau}: page shows ${labels(shown)}, predict ${labels(want)}`);
            continue;
          }
          const gap = Math.max(...shown.map(([, p], i) => Math.abs(p - want[i][1])));
          worst = Math.max(worst, gap);
          checks += 1;
          if (!(gap <= TOLERANCE)) failures.push(`${edition} ${JSON.stringify(name)} tau=${tau}: probabilities differ by ${gap}`);
        }
      }
      for (const name of REFUSED) {
        await input.fill("");
        await input.pressSequentially(name);
        await page.waitForFunction((n) => document.getElementById("result").dataset.name === n, name);
        const state = await page.getAttribute("#result", "data-state");
        const items = await page.locator("#top3 li").count();
        if (!expected[name].refused || !state.startsWith("error") || items) {
          failures.push(`${edition} ${JSON.stringify(name)}: page state ${state} with ${items} answers; ` +
                        `predict: ${expected[name].refused ?? "accepted"}`);
        }
      }
      if (edition === "en" && process.env.DEMO_SCREENSHOT) {
        if (await uniform.isChecked()) await uniform.click();
        await input.fill("");
        await input.pressSequentially("Kowalski");
        await page.waitForFunction(() => document.getElementById("result").dataset.name === "Kowalski");
        await page.screenshot({ path: process.env.DEMO_SCREENSHOT, fullPage: true });
        console.log(`screenshot: ${process.env.DEMO_SCREENSHOT}`);
      }
      failures.push(...problems.map((p) => `${edition}: ${p}`));
      await page.close();
    }
    failures.push(...browser.outside.map((url) => `request to an outside address: ${url}`));
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`demo: ${checks} of ${NAMES.length * 4} (name, switch, edition) answers equal predict's top three, ` +
              `${REFUSED.length} names without letters refused on both pages; ` +
              `largest probability difference ${worst.toExponential(2)} (tolerance ${TOLERANCE})`);
  if (failures.length) {
    console.log(failures.map((f) => `FAIL ${f}`).join("\n"));
    process.exit(1);
  }
  console.log("PASS demo browser test");
}

await main();
