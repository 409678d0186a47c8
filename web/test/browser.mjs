// The browser half of `bash web/test.sh`: serves the built page on 127.0.0.1, opens it in
// headless Chromium, draws each digit of DIGITS (28x28 MNIST test images) on the pad with mouse
// strokes, and writes what the page shows for both networks to RESULTS, with screenshots at
// desktop and phone sizes.
//
//   node browser.mjs DIST DIGITS RESULTS SCREENSHOT_DIR
import { chromium } from "playwright-core";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const [dist, digitsFile, resultsFile, screenshots] = process.argv.slice(2);
const digits = JSON.parse(fs.readFileSync(digitsFile, "utf8"));

const server = await serve(path.resolve(dist));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 960, height: 720 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(server.url);
  await page.waitForFunction(() => window.nnPage?.ready, null, { timeout: 20_000 });

  const results = [];
  for (const [index, digit] of digits.entries()) {
    await page.click("#clear");
    await draw(page, digit.pixels);
    for (const model of [0, 1]) {
      await page.click(`[data-model="${model}"]`);
      await frames(page);
      const shown = await page.evaluate(() => ({
        digit: document.getElementById("digit").textContent,
        state: window.nnPage,
      }));
      if (shown.digit !== String(shown.state.digit)) {
        throw new Error(`digit ${index}: the page shows ${shown.digit} but predicted ${shown.state.digit}`);
      }
      results.push({
        index,
        label: digit.label,
        model,
        page: shown.state.digit,
        probabilities: shown.state.probabilities,
        input: shown.state.input,
      });
    }
  }
  // Undo takes strokes back one at a time: both strokes of a 7, then nothing.
  await page.click("#clear");
  await stroke(page, [[60, 60], [220, 60]]);
  await stroke(page, [[220, 60], [110, 240]]);
  await expectShown(page, "7", "a drawn 7");
  await page.click("#undo");
  await page.click("#undo");
  await expectShown(page, "?", "a pad after undoing both strokes");

  // A 3 written with a smooth pen, as a person would: each network reads it.
  await page.click("#clear");
  await stroke(page, curve((t) => [140 + 62 * Math.sin(Math.PI * (1.25 * t - 0.25)), 100 - 50 * Math.cos(Math.PI * (1.25 * t - 0.25))], 40));
  await stroke(page, curve((t) => [140 + 70 * Math.sin(Math.PI * (1.35 * t - 0.1)), 185 - 60 * Math.cos(Math.PI * (1.35 * t - 0.1))], 40));
  for (const model of [0, 1]) {
    await page.click(`[data-model="${model}"]`);
    await expectShown(page, "3", `a pen-drawn 3, network ${model}`);
  }
  if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join("\n")}`);
  fs.writeFileSync(resultsFile, JSON.stringify(results));

  // The pen-drawn 3 with LeNet chosen: at desktop size, then on a phone's screen.
  fs.mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: path.join(screenshots, "desktop.png") });
  await page.setViewportSize({ width: 390, height: 844 });
  await frames(page);
  await page.screenshot({ path: path.join(screenshots, "phone.png"), fullPage: true });
  console.log(`drew ${digits.length} digits; screenshots in ${screenshots}`);
} finally {
  await browser.close();
  server.close();
}

// Draws a 28x28 image on the pad, scaled 10x: one horizontal stroke along each run of inked
// pixels of each row, with the page's round brush.
async function draw(page, pixels) {
  const box = await page.locator("#pad").boundingBox();
  const at = (column, row) => [box.x + ((column * 10 + 5) * box.width) / 280, box.y + ((row * 10 + 5) * box.height) / 280];
  for (let row = 0; row < 28; row++) {
    let column = 0;
    while (column < 28) {
      if (pixels[row * 28 + column] < 0.3) {
        column++;
        continue;
      }
      const start = column;
      while (column < 28 && pixels[row * 28 + column] >= 0.3) column++;
      await page.mouse.move(...at(start, row));
      await page.mouse.down();
      await page.mouse.move(...at(column - 1, row), { steps: 3 });
      await page.mouse.up();
    }
  }
  await frames(page);
}

// One stroke through `points` (pad coordinates, 0 to 280).
async function stroke(page, points) {
  const box = await page.locator("#pad").boundingBox();
  const at = ([x, y]) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const point of points.slice(1)) await page.mouse.move(...at(point), { steps: 2 });
  await page.mouse.up();
}

// `count + 1` points along `path(t)` for t from 0 to 1.
function curve(path, count) {
  return Array.from({ length: count + 1 }, (_, i) => path(i / count));
}

// Fails unless the page shows `digit` once it has caught up.
async function expectShown(page, digit, what) {
  await frames(page);
  const shown = await page.locator("#digit").textContent();
  if (shown !== digit) throw new Error(`${what}: the page shows ${shown}, not ${digit}`);
}

// Waits two animation frames: the page predicts on the next frame after a change.
async function frames(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

// A static server for `root` on 127.0.0.1, on a free port.
async function serve(root) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
  const server = http.createServer((request, response) => {
    const name = new URL(request.url, "http://127.0.0.1").pathname;
    const file = path.join(root, name === "/" ? "index.html" : decodeURIComponent(name));
    if (!file.startsWith(root + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    fs.readFile(file, (error, data) => {
      if (error) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" }).end(data);
    });
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}
