// Browser test of the site (make browser, or tests/test_site.py): node tests/browser/site.mjs build/site
// Every page of both editions loads with no failed request, no script error and nothing from outside
// 127.0.0.1; every formula is typeset (one MathJax container in each math element, no TeX error);
// Chinese pages say lang="zh-CN"; the Chinese search for 梯度 and the English one for "gradient" list pages.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { openBrowser, requireBrowser, serveSite, watchPage } from "./launch.mjs";

const NAME = "site browser test";
const EDITIONS = { en: "en", zh: "zh-CN" };
const SEARCHES = [["zh", "梯度"], ["en", "gradient"]];

/** The HTML pages of one edition (not Sphinx's _static, _sources, _images, _downloads). */
function pages(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith("_") || entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? pages(path) : entry.name.endsWith(".html") ? [path] : [];
  });
}

/** Load one page, wait for MathJax, and return what is wrong with it. */
async function checkPage(context, url, lang) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(url, { waitUntil: "load" });
  const math = await page.evaluate(async () => {
    if (window.MathJax?.startup?.promise) await window.MathJax.startup.promise;
    const elements = [...document.querySelectorAll(".math")];
    return {
      elements: elements.length,
      containers: document.querySelectorAll(".math mjx-container").length,
      raw: elements.filter((e) => !e.querySelector("mjx-container")).map((e) => e.textContent.slice(0, 60)),
      errors: [...document.querySelectorAll("mjx-merror")].map((e) => e.textContent.slice(0, 60)),
      lang: document.documentElement.lang,
      switch: document.querySelectorAll(".site-edition-switch").length,
    };
  });
  await page.waitForLoadState("networkidle", { timeout: 15000 }).catch(() => {});  // late loads, e.g. fonts
  await page.close();
  if (math.containers !== math.elements) problems.push(`${math.containers} MathJax containers for ${math.elements} math elements`);
  for (const tex of math.raw) problems.push(`formula not typeset: ${tex}`);
  for (const tex of math.errors) problems.push(`TeX error: ${tex}`);
  if (lang && math.lang !== lang) problems.push(`lang="${math.lang}", expected "${lang}"`);
  if (lang && math.switch !== 1) problems.push(`${math.switch} links to the other edition, expected 1`);
  return { problems, formulas: math.elements, typeset: math.containers };
}

/** Search one edition for a word; the titles of the pages listed. */
async function search(context, origin, edition, word) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${origin}/${edition}/search.html?q=${encodeURIComponent(word)}`, { waitUntil: "load" });
  const hits = page.locator("#search-results ul.search li");
  await hits.first().waitFor({ timeout: 30000 }).catch(() => {});
  const titles = await hits.locator("a").first().allTextContents().catch(() => []);
  const count = await hits.count();
  await page.close();
  return { count, titles, problems };
}

async function main(siteDir) {
  await requireBrowser(NAME);
  if (!existsSync(join(siteDir, "en")) || !existsSync(join(siteDir, "zh"))) {
    console.error(`FAIL ${NAME}: no site in ${siteDir} (run make site first)`);
    process.exit(1);
  }
  const server = await serveSite(siteDir);
  const browser = await openBrowser(NAME);
  let failures = 0, formulas = 0, typeset = 0, count = 0;
  const report = (label, problems) => {
    failures += problems.length;
    for (const p of problems) console.log(`  ${label}: ${p}`);
  };
  try {
    const targets = [[join(siteDir, "index.html"), null]];
    for (const [edition, lang] of Object.entries(EDITIONS)) {
      targets.push(...pages(join(siteDir, edition)).map((path) => [path, lang]));
    }
    for (const [path, lang] of targets) {
      const rel = relative(siteDir, path).split("\\").join("/");
      const result = await checkPage(browser.context, `${server.origin}/${rel}`, lang);
      report(rel, result.problems);
      formulas += result.formulas;
      typeset += result.typeset;
      count += 1;
    }
    console.log(`${count} pages loaded, ${typeset} of ${formulas} formulas typeset`);
    for (const [edition, word] of SEARCHES) {
      const result = await search(browser.context, server.origin, edition, word);
      report(`search ${edition} "${word}"`, result.problems);
      if (result.count === 0) report(`search ${edition} "${word}"`, ["no page listed"]);
      else console.log(`search ${edition} "${word}": ${result.count} pages listed`);
    }
    report("outside request", browser.outside);
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(failures ? `FAIL ${NAME}: ${failures} problems` : `PASS ${NAME}`);
  process.exit(failures ? 1 : 0);
}

await main(process.argv[2] ?? "build/site");
