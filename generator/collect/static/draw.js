// The drawing page: Pointer Events, so finger, pen and mouse all draw. No library, no build step.
// A drawing is sent as strokes of points [x, y, t, pressure]: x and y on a square of CANVAS units,
// t in milliseconds since the first point, pressure in 0..1 (0.5 where the device has none).
"use strict";

(function () {
  const body = document.body;
  const CANVAS = Number(body.dataset.canvas);
  const GOAL = Number(body.dataset.goal);
  const MAX_STROKES = 40;
  const MAX_POINTS = 4000;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const status = document.getElementById("status");
  const $ = (id) => document.getElementById(id);

  let config = document.querySelector(".script").dataset.config;
  let prompt = null;
  let strokes = [];
  let current = null;
  let start = null;
  let pointer = null;
  let drawn = 0;
  let thanked = false;

  function say(text) { status.textContent = text; }

  async function post(path, data) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { throw new Error(answer.error || ("the server answered " + response.status)); }
    return answer;
  }

  // --- the pad ---------------------------------------------------------------------------------------

  function resize() {
    const side = pad.getBoundingClientRect().width;
    const ratio = window.devicePixelRatio || 1;
    pad.width = Math.round(side * ratio);
    pad.height = Math.round(side * ratio);
    redraw();
  }

  function redraw() {
    const scale = pad.width / CANVAS;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.strokeStyle = "#111";
    ctx.fillStyle = "#111";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = 28 * scale;
    for (const stroke of strokes) {
      if (stroke.length === 1) {
        ctx.beginPath();
        ctx.arc(stroke[0][0] * scale, stroke[0][1] * scale, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0] * scale, stroke[0][1] * scale);
      for (const point of stroke.slice(1)) { ctx.lineTo(point[0] * scale, point[1] * scale); }
      ctx.stroke();
    }
    $("undo").disabled = strokes.length === 0;
    $("clear").disabled = strokes.length === 0;
    $("submit").disabled = strokes.length === 0;
  }

  function pointCount() { return strokes.reduce((sum, stroke) => sum + stroke.length, 0); }

  function toPoint(event) {
    const rect = pad.getBoundingClientRect();
    const clamp = (value) => Math.min(CANVAS, Math.max(0, value));
    const round1 = (value) => Math.round(value * 10) / 10;
    if (start === null) { start = event.timeStamp; }
    const pressure = event.pressure > 0 ? Math.min(1, event.pressure) : 0.5;
    return [
      round1(clamp(((event.clientX - rect.left) / rect.width) * CANVAS)),
      round1(clamp(((event.clientY - rect.top) / rect.height) * CANVAS)),
      round1(Math.max(0, event.timeStamp - start)),
      Math.round(pressure * 1000) / 1000,
    ];
  }

  pad.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || current !== null || strokes.length >= MAX_STROKES || pointCount() >= MAX_POINTS) { return; }
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    if (pointer === null) { pointer = ["mouse", "pen", "touch"].includes(event.pointerType) ? event.pointerType : "mouse"; }
    current = { id: event.pointerId, points: [toPoint(event)] };
    strokes.push(current.points);
    redraw();
  });

  pad.addEventListener("pointermove", (event) => {
    if (current === null || event.pointerId !== current.id) { return; }
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const one of (events.length ? events : [event])) {
      if (pointCount() >= MAX_POINTS) { break; }
      current.points.push(toPoint(one));
    }
    redraw();
  });

  function endStroke(event) {
    if (current === null || event.pointerId !== current.id) { return; }
    current = null;
    redraw();
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  function reset() {
    strokes = [];
    current = null;
    start = null;
    pointer = null;
    redraw();
  }

  // --- prompts and answers -----------------------------------------------------------------------------

  function showCount() {
    $("count").textContent = String(drawn);
    $("progress").value = Math.min(drawn, GOAL);
  }

  async function nextPrompt() {
    const after = prompt && prompt.config === config ? "&after=" + prompt.label : "";
    const response = await fetch("/api/prompt?config=" + encodeURIComponent(config) + after, { credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok) { say(answer.error || "The server did not answer; reload the page."); return; }
    drawn = answer.drawn;
    showCount();
    if (answer.done) {
      prompt = null;
      say("That is every numeral you know of this script. Thank you!");
      return;
    }
    prompt = answer;
    $("numeral").src = answer.image;
    $("numeral").alt = answer.script + " numeral " + answer.class_name;
    $("numeral-name").textContent = answer.class_name;
    $("numeral-info").textContent = "(" + answer.script + ", " + answer.code_point + ")";
    reset();
  }

  async function submit() {
    if (!prompt || strokes.length === 0) { return; }
    $("submit").disabled = true;
    try {
      const answer = await post("/api/drawing", {
        config: prompt.config, label: prompt.label, pointer: pointer || "mouse", strokes: strokes,
      });
      drawn = answer.drawn;
      showCount();
      say(encouragement(drawn));
      if (drawn >= GOAL && !thanked) { thank(); }
      await nextPrompt();
    } catch (error) {
      say("Not saved: " + error.message);
      redraw();
    }
  }

  function encouragement(count) {
    if (count === 1) { return "Saved. Your first numeral!"; }
    if (count % 10 === 0) { return "Saved. " + count + " numerals: wonderful!"; }
    if (count === Math.floor(GOAL / 2)) { return "Saved. Halfway there!"; }
    return "Saved. " + count + " so far, thank you.";
  }

  async function decline(reason) {
    if (!prompt) { return; }
    try {
      await post("/api/decline", { config: prompt.config, label: prompt.label, reason: reason });
      say(reason === "unknown" ? "No problem: that one will not be asked again." : "Skipped.");
      await nextPrompt();
    } catch (error) { say(error.message); }
  }

  function thank() {
    thanked = true;
    $("thanks-count").textContent = String(drawn);
    $("drawing").hidden = true;
    $("thanks").hidden = false;
  }

  // --- wiring -----------------------------------------------------------------------------------------

  $("agree").addEventListener("click", async () => {
    try {
      await post("/api/consent", {});
      begin();
    } catch (error) { say(error.message); }
  });
  $("undo").addEventListener("click", () => { strokes.pop(); redraw(); });
  $("clear").addEventListener("click", reset);
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", () => decline("skip"));
  $("unknown").addEventListener("click", () => decline("unknown"));
  $("more").addEventListener("click", () => { $("thanks").hidden = true; $("drawing").hidden = false; resize(); });
  for (const button of document.querySelectorAll(".script")) {
    button.addEventListener("click", () => {
      config = button.dataset.config;
      for (const other of document.querySelectorAll(".script")) { other.classList.toggle("chosen", other === button); }
      nextPrompt();
    });
  }
  $("contact").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/contact", { name: $("contact-name").value, email: $("contact-email").value });
      $("contact-status").textContent = "Thank you, noted.";
    } catch (error) { $("contact-status").textContent = error.message; }
  });
  window.addEventListener("resize", resize);

  function begin() {
    $("consent").hidden = true;
    $("drawing").hidden = false;
    document.querySelector(".script").classList.add("chosen");
    resize();
    nextPrompt();
  }

  if (body.dataset.consented === "yes") { begin(); }
})();
