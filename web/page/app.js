// The page: strokes on a 280x280 pad, handed to the WebAssembly module as ink (0 paper to 255
// full ink) after every change; the module finds the digit's 28x28 input the way MNIST made its
// digits, runs the chosen network and leaves the input and the ten probabilities in its memory.

const SIDE = 280;
const BRUSH = 20;
const INK = "#16181d";

const pad = document.getElementById("pad");
const context = pad.getContext("2d", { willReadFrequently: true });
const seen = document.getElementById("seen").getContext("2d");
const digitView = document.getElementById("digit");
const confidenceView = document.getElementById("confidence");
const timingView = document.getElementById("timing");
const status = document.getElementById("status");
const bars = document.getElementById("bars");

// What the browser test reads: the last prediction as the page shows it.
const state = { ready: false, model: 0, predictions: 0, digit: null, probabilities: [], input: [] };
window.nnPage = state;

const { wasm, size } = await loadModule("nn.wasm");

const strokes = [];
let current = null;
let scheduled = false;

const rows = [];
for (let digit = 0; digit < 10; digit++) {
  const row = document.createElement("li");
  row.innerHTML = `<span class="name">${digit}</span><div class="track"><div class="fill"></div></div><span class="value">–</span>`;
  bars.append(row);
  rows.push({ row, fill: row.querySelector(".fill"), value: row.querySelector(".value") });
}

render();
predict();
status.textContent = `Ready: ${(size / 1024).toFixed(0)} KiB of WebAssembly, both networks inside; nothing leaves this page.`;
state.ready = true;

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  current = [point(event)];
  strokes.push(current);
  render();
  schedule();
});
pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  for (const sample of event.getCoalescedEvents?.() ?? [event]) current.push(point(sample));
  render();
  schedule();
});
for (const end of ["pointerup", "pointercancel", "lostpointercapture"]) {
  pad.addEventListener(end, () => {
    if (current) schedule();
    current = null;
  });
}

document.getElementById("undo").addEventListener("click", undo);
document.getElementById("clear").addEventListener("click", clear);
for (const button of document.querySelectorAll("[data-model]")) {
  button.addEventListener("click", () => choose(Number(button.dataset.model)));
}
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape" || event.key === "Delete") {
    clear();
  }
});

async function loadModule(url) {
  // The bytes first (any static server will do, whatever type it sends), then the module: it
  // imports nothing.
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  const bytes = await response.arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return { wasm: instance.exports, size: bytes.byteLength };
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [((event.clientX - box.left) * SIDE) / box.width, ((event.clientY - box.top) * SIDE) / box.height];
}

function render() {
  context.fillStyle = "#fff";
  context.fillRect(0, 0, SIDE, SIDE);
  context.strokeStyle = INK;
  context.fillStyle = INK;
  context.lineWidth = BRUSH;
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const stroke of strokes) {
    if (stroke.length === 1) {
      context.beginPath();
      context.arc(stroke[0][0], stroke[0][1], BRUSH / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    context.beginPath();
    context.moveTo(...stroke[0]);
    for (const [x, y] of stroke.slice(1)) context.lineTo(x, y);
    context.stroke();
  }
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    predict();
  });
}

function predict() {
  const pixels = context.getImageData(0, 0, SIDE, SIDE).data;
  // Views over the module's memory are made after each call could have grown it.
  const ink = new Uint8Array(wasm.memory.buffer, wasm.ink(), SIDE * SIDE);
  for (let i = 0; i < ink.length; i++) ink[i] = 255 - pixels[4 * i];
  const started = performance.now();
  const digit = wasm.predict(state.model);
  const milliseconds = performance.now() - started;
  const probabilities = Array.from(new Float32Array(wasm.memory.buffer, wasm.probabilities(), 10));
  const input = Array.from(new Float32Array(wasm.memory.buffer, wasm.input(), 28 * 28));
  show(digit, probabilities, input, milliseconds);
  Object.assign(state, { digit: digit === 10 ? null : digit, probabilities, input, predictions: state.predictions + 1 });
}

function show(digit, probabilities, input, milliseconds) {
  const blank = digit === 10;
  digitView.textContent = blank ? "?" : String(digit);
  confidenceView.textContent = blank ? "draw on the pad" : `${(100 * probabilities[digit]).toFixed(1)}% sure`;
  timingView.textContent = blank ? "" : `read in ${milliseconds.toFixed(2)} ms`;
  rows.forEach(({ row, fill, value }, index) => {
    const p = probabilities[index];
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    value.textContent = blank ? "–" : `${(100 * p).toFixed(1)}%`;
    row.classList.toggle("top", !blank && index === digit);
  });
  const image = seen.createImageData(28, 28);
  input.forEach((value, i) => {
    const level = Math.round(255 * value);
    image.data.set([level, level, level, 255], 4 * i);
  });
  seen.putImageData(image, 0, 0);
}

function undo() {
  strokes.pop();
  render();
  predict();
}

function clear() {
  strokes.length = 0;
  render();
  predict();
}

function choose(model) {
  state.model = model;
  for (const button of document.querySelectorAll("[data-model]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.model) === model));
  }
  predict();
}
