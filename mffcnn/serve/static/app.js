// The page of mffcnn serve: photos (chosen, dropped, or the sample) or the camera's frames go to POST /predict;
// each face's box and label are drawn over its image, its class probabilities shown as bars. Plain DOM, no
// library, nothing loaded from elsewhere: the page works on a machine without internet access.
"use strict";

const MAX_PHOTOS = 20;         // photos sent per choice (one request each, one after another)
const CAMERA_WIDTH = 640;      // the camera frame sent: 640×480 is what the detector is fastest on
const CAMERA_HEIGHT = 480;
const JPEG_QUALITY = 0.85;
// The camera's timeline: the smoothed probabilities of each person (track) over the last seconds, scrolling.
const TIMELINE_SECONDS = 10;
const TIMELINE_TRACKS = 3;     // people shown at most (the most recently seen)
const STRIP_HEIGHT = 110;      // px per person
const AXIS_HEIGHT = 14;        // px under the strips for the time axis
// One colour per class, in the model's order (colour-blind-safe palette of Okabe & Ito, then greys).
const PALETTE = ["#d55e00", "#009e73", "#8e44ad", "#e69f00", "#0072b2", "#cc79a7", "#56b4e9", "#666", "#999"];

let classNames = [];
let camera = null;  // {stream, canvas, running, session, history}

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function colourOf(label) {
  const i = classNames.indexOf(label);
  return PALETTE[(i < 0 ? PALETTE.length - 1 : i) % PALETTE.length];
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", Boolean(isError));
}

async function describeModel() {
  try {
    const card = await (await fetch("/model")).json();
    classNames = card.class_names || [];
    const sets = Array.isArray(card.trained_on)
      ? card.trained_on.map((d) => d.dataset).filter((d, i, all) => d && all.indexOf(d) === i).join(", ")
      : card.trained_on || "unknown data";
    const int8 = card.quantization ? ", int8" : "";
    $("model").querySelector("summary").textContent =
      `Model ${card.file} (${card.backend}${int8}): ${classNames.length} classes, trained on ${sets}; ` +
      "its licence (click)";
    $("licence").textContent = card.licence;
  } catch (e) {
    $("model").querySelector("summary").textContent = "The model's description could not be read.";
  }
}

// POST one image; the parsed JSON answer, or an Error with the server's one-line detail. session: a camera
// session id, so that the server tracks its faces across frames and smooths their labels (serve/tracks.py).
async function predict(blob, name, session) {
  const form = new FormData();
  form.append("files", blob, name);
  const url = session ? `/predict?track=${encodeURIComponent(session)}` : "/predict";
  const response = await fetch(url, { method: "POST", body: form });
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON: said below */ }
  if (!response.ok) {
    throw new Error(body && body.detail ? `${response.status}: ${body.detail}` : `HTTP ${response.status}`);
  }
  return body;
}

// A camera face's steady label (smoothed over its track) where the server gave one, else its own.
const steady = (face) => (face.smoothed_label
  ? { label: face.smoothed_label, score: face.smoothed_score, probabilities: face.smoothed_probabilities }
  : face);
const who = (face) => (face.track !== undefined && face.track !== null ? `#${face.track} ` : "");

// Boxes and labels over an image or video shown at any size: positions in % of the frame's own pixels.
function drawBoxes(overlay, result) {
  overlay.replaceChildren();
  for (const face of result.faces) {
    const [x, y, w, h] = face.box;
    const shown = steady(face);
    const box = el("div", "face-box");
    box.style.setProperty("--c", colourOf(shown.label));
    box.style.left = `${(100 * x) / result.width}%`;
    box.style.top = `${(100 * y) / result.height}%`;
    box.style.width = `${(100 * w) / result.width}%`;
    box.style.height = `${(100 * h) / result.height}%`;
    if (y < 0.06 * result.height) box.classList.add("top");  // no room above: the label goes below
    box.appendChild(el("span", "face-label", `${who(face)}${shown.label} ${Math.round(100 * shown.score)}%`));
    overlay.appendChild(box);
  }
}

function drawBars(container, result) {
  container.replaceChildren();
  if (result.status === "unreadable") {
    container.appendChild(el("p", "error", result.error || "unreadable"));
    return;
  }
  if (!result.faces.length) {
    container.appendChild(el("p", "none", "No face found."));
    return;
  }
  result.faces.forEach((face, i) => {
    const shown = steady(face);
    const block = el("div", "face");
    block.style.setProperty("--c", colourOf(shown.label));
    const title = el("h3");
    const raw = face.smoothed_label ? ` (this frame: ${face.label})` : "";
    const name = who(face) ? `Person ${who(face).trim()}` : `Face ${i + 1}`;
    title.append(el("span", "swatch"), `${name}: ${shown.label}${raw}`);
    block.appendChild(title);
    const ranked = Object.entries(shown.probabilities).sort((a, b) => b[1] - a[1]);
    for (const [name, p] of ranked) {
      const row = el("div", name === shown.label ? "bar best" : "bar");
      const track = el("div", "track");
      const fill = el("div", "fill");
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      track.appendChild(fill);
      row.append(el("span", "name", name), track, el("span", "value", `${(100 * p).toFixed(1)}%`));
      block.appendChild(row);
    }
    container.appendChild(block);
  });
}

async function showPhoto(blob, name) {
  const card = el("section", "result");
  card.appendChild(el("h2", null, name));
  const stage = el("div", "stage");
  const img = el("img");
  img.alt = name;
  img.src = URL.createObjectURL(blob);
  const overlay = el("div", "overlay");
  stage.append(img, overlay);
  const faces = el("div", "faces", "Classifying…");
  card.append(stage, faces);
  $("results").prepend(card);
  try {
    const answer = await predict(blob, name);
    const result = answer.results[0];
    drawBoxes(overlay, result);
    drawBars(faces, result);
    return result.faces.length;
  } catch (e) {
    faces.replaceChildren(el("p", "error", e.message));
    return 0;
  }
}

async function showPhotos(files) {
  const list = Array.from(files).slice(0, MAX_PHOTOS);
  if (!list.length) return;
  let found = 0;
  for (let i = 0; i < list.length; i++) {
    setStatus(`classifying ${i + 1} of ${list.length}…`);
    found += await showPhoto(list[i], list[i].name || `photo ${i + 1}`);
  }
  const more = files.length > MAX_PHOTOS ? ` (the first ${MAX_PHOTOS} of ${files.length})` : "";
  setStatus(`${list.length} photo${list.length === 1 ? "" : "s"}${more}, ${found} face${found === 1 ? "" : "s"}`);
}

async function showSample() {
  const response = await fetch("/sample.png");
  await showPhotos([new File([await response.blob()], "astronaut.png", { type: "image/png" })]);
}

// The camera: each frame is sent as soon as the answer to the last one came back (as fast as the server
// answers, never a queue of frames), and its boxes drawn over the live video.
async function toggleCamera() {
  if (camera) {
    camera.running = false;
    camera.stream.getTracks().forEach((t) => t.stop());
    camera = null;
    $("camera").textContent = "Start the camera";
    $("camera").classList.remove("on");
    $("live").hidden = true;
    setStatus("");
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus("This browser gives no camera here (a camera needs an https address, or localhost).", true);
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: CAMERA_WIDTH }, height: { ideal: CAMERA_HEIGHT } }, audio: false,
    });
    const session = window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    camera = { stream, canvas: document.createElement("canvas"), running: true, session, history: new Map() };
  } catch (e) {
    setStatus(`No camera: ${e.message || e.name}`, true);
    return;
  }
  const video = $("video");
  video.srcObject = camera.stream;
  $("live").hidden = false;
  $("camera").textContent = "Stop the camera";
  $("camera").classList.add("on");
  await video.play().catch(() => {});
  cameraLoop(camera);
}

async function cameraLoop(cam) {
  const video = $("video");
  let frames = 0;
  const started = performance.now();
  while (cam.running) {
    if (!video.videoWidth) { await new Promise((r) => setTimeout(r, 50)); continue; }
    const scale = Math.min(1, CAMERA_WIDTH / video.videoWidth);
    cam.canvas.width = Math.round(video.videoWidth * scale);
    cam.canvas.height = Math.round(video.videoHeight * scale);
    cam.canvas.getContext("2d").drawImage(video, 0, 0, cam.canvas.width, cam.canvas.height);
    const blob = await new Promise((r) => cam.canvas.toBlob(r, "image/jpeg", JPEG_QUALITY));
    try {
      const result = (await predict(blob, "camera.jpg", cam.session)).results[0];
      if (!cam.running) break;
      drawBoxes($("live-overlay"), result);
      drawBars($("live-faces"), result);
      remember(cam.history, result, performance.now() / 1000);
      drawTimeline($("timeline"), cam.history, performance.now() / 1000);
      frames += 1;
      const fps = (1000 * frames) / (performance.now() - started);
      setStatus(`camera: ${result.faces.length} face${result.faces.length === 1 ? "" : "s"}, ${fps.toFixed(1)} frames/s`);
    } catch (e) {
      setStatus(e.message, true);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

// Each tracked face's smoothed probabilities, kept for the last TIMELINE_SECONDS.
function remember(history, result, now) {
  for (const face of result.faces) {
    if (face.track === undefined || face.track === null) continue;
    if (!history.has(face.track)) history.set(face.track, []);
    history.get(face.track).push({ t: now, p: steady(face).probabilities, label: steady(face).label });
  }
  for (const [track, points] of history) {
    while (points.length && points[0].t < now - TIMELINE_SECONDS) points.shift();
    if (!points.length) history.delete(track);
  }
}

// One strip per person: a line per class over the last seconds (right edge: now), the label as a band on top.
function drawTimeline(canvas, history, now) {
  const tracks = [...history.entries()].sort((a, b) => b[1].at(-1).t - a[1].at(-1).t).slice(0, TIMELINE_TRACKS);
  canvas.hidden = tracks.length === 0;
  const legend = $("legend");
  if (!legend.childElementCount) {
    for (const name of classNames) {
      const key = el("span", null, name);
      key.style.setProperty("--c", colourOf(name));
      legend.appendChild(key);
    }
  }
  legend.hidden = canvas.hidden;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 640;
  const height = STRIP_HEIGHT * Math.max(tracks.length, 1) + AXIS_HEIGHT;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const left = 34;
  const x = (t) => left + ((width - left - 4) * (t - (now - TIMELINE_SECONDS))) / TIMELINE_SECONDS;
  g.font = "11px system-ui, sans-serif";
  tracks.forEach(([track, points], k) => {
    const top = k * STRIP_HEIGHT;
    const y = (p) => top + 10 + (STRIP_HEIGHT - 16) * (1 - p);
    g.fillStyle = "#5d6678";
    g.fillText(`#${track}`, 2, top + 12);
    g.strokeStyle = "#eceff4";
    g.strokeRect(left, top + 10, width - left - 4, STRIP_HEIGHT - 16);
    points.forEach((pt, i) => {  // the smoothed label, as a band along the top
      const next = points[i + 1] ? x(points[i + 1].t) : x(pt.t) + 2;
      g.fillStyle = colourOf(pt.label);
      g.fillRect(x(pt.t), top + 3, Math.max(next - x(pt.t) + 0.5, 1), 6);
    });
    for (const name of classNames) {
      g.strokeStyle = colourOf(name);
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((pt, i) => (i ? g.lineTo(x(pt.t), y(pt.p[name])) : g.moveTo(x(pt.t), y(pt.p[name]))));
      g.stroke();
    }
  });
  g.fillStyle = "#5d6678";
  g.fillText(`−${TIMELINE_SECONDS} s`, left, height - 1);
  g.fillText("now", width - 26, height - 1);
}

function listenForDrops() {
  const body = document.body;
  body.addEventListener("dragover", (e) => { e.preventDefault(); body.classList.add("dropping"); });
  body.addEventListener("dragleave", () => body.classList.remove("dropping"));
  body.addEventListener("drop", (e) => {
    e.preventDefault();
    body.classList.remove("dropping");
    showPhotos(e.dataTransfer.files);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  describeModel();
  $("files").addEventListener("change", (e) => { showPhotos(e.target.files); e.target.value = ""; });
  $("sample").addEventListener("click", showSample);
  $("camera").addEventListener("click", toggleCamera);
  listenForDrops();
});
