// Shared harness of the browser tests: a static server on 127.0.0.1, headless Chromium (Debian's
// package) driven by playwright-core, and a watcher that records everything that went wrong on a page.
// Any request to a host other than 127.0.0.1 is aborted and recorded: the site must work offline.
import { existsSync, mkdtempSync, rmSync, statSync, createReadStream } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";

const CANDIDATES = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon",
  ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".txt": "text/plain; charset=utf-8",
  ".ipynb": "application/x-ipynb+json", ".zip": "application/zip", ".inv": "application/octet-stream",
};

/** The Chromium executable ($CHROMIUM, then Debian's paths), or null. */
export function chromiumPath() {
  return CANDIDATES.find((path) => path && existsSync(path)) ?? null;
}

/** Say in one line why a test does not run, and end the process successfully. */
export function skip(name, why) {
  console.log(`SKIP ${name}: ${why}`);
  process.exit(0);
}

/** Skip (one line) when Chromium or playwright-core is missing; returns playwright-core's chromium. */
export async function requireBrowser(name) {
  if (!chromiumPath()) skip(name, "no Chromium (install Debian's chromium or set CHROMIUM)");
  try {
    return (await import("playwright-core")).chromium;
  } catch {
    skip(name, "playwright-core is not installed (run `npm ci`)");
  }
}

/** Serve rootDir on 127.0.0.1 at a free port: {origin, close()}. */
export async function serveSite(rootDir) {
  const root = resolve(rootDir);
  const server = createServer((req, res) => {
    let path = normalize(join(root, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    if (path !== root && !path.startsWith(root + sep)) return void res.writeHead(403).end();
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "index.html");
    if (!existsSync(path)) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" });
    createReadStream(path).pipe(res);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((ok) => server.close(ok)) };
}

/** Headless Chromium with a fresh profile: {context, outside, close()}; outside lists aborted outside URLs. */
export async function openBrowser(name = "browser test") {
  const chromium = await requireBrowser(name);
  const profile = mkdtempSync(join(tmpdir(), "rnn-tutorial-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(), headless: true, args: FLAGS, serviceWorkers: "block",
  });
  const outside = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort("blockedbyclient");
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, outside, close };
}

/** Record on a page every failed request, HTTP error, uncaught script error and console error. */
export function watchPage(page) {
  const problems = [];
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on("response", (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });
  page.on("pageerror", (err) => problems.push(`script error: ${err.message}`));
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console error: ${msg.text()}`); });
  return problems;
}
