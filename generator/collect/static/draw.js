// The drawing page: Pointer Events, so finger, pen and mouse all draw. No library, no build step.
// A drawing is sent as strokes of points [x, y, t, pressure]: x and y on a square of CANVAS units,
// t in milliseconds since the first point, pressure in 0..1 (0.5 where the device has none).
// Every word the page shows comes from #messages, which the server fills in the page's language.
"use strict";

(function () {
  const body = document.body;
  const CANVAS = Number(body.dataset.canvas);
  const GOAL = Number(body.dataset.goal);
  const MAX_STROKES = 40;
  const MAX_POINTS = 4000;
  const RETRY_MS = 2000;
  const words = JSON.parse(document.getElementById("messages").textContent);
  let csrf = document.querySelector('meta[name="csrf-token"]').content;

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
  let submission = null;
  let drawn = 0;
  let thanked = false;
  let busy = false;
  let deleteCode = null;

  // "%(name)s" placeholders, as in the catalogue (Python's format, which Poedit checks).
  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  // A random id for one drawing, so that a post retried after a lost answer is stored once.
  // crypto.getRandomValues works on plain http too (a classroom's LAN), unlike crypto.randomUUID.
  function newSubmissionId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // What went wrong, as the writer's words say it: "restarted", "busy", "offline", "refused" or "server_error".
  class PostFailure extends Error {
    constructor(kind, detail) { super(detail || kind); this.kind = kind; }
  }

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function freshToken() {
    const response = await fetch("/api/token", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) { return false; }
    const answer = await response.json().catch(() => ({}));
    if (typeof answer.csrf !== "string") { return false; }
    csrf = answer.csrf;
    document.querySelector('meta[name="csrf-token"]').content = csrf;
    return true;
  }

  async function postOnce(path, data) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(data),
      });
    } catch (error) {
      throw new PostFailure("offline", error.message);
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) { return answer; }
    if (response.status === 429) {
      const failure = new PostFailure("busy", answer.error);
      failure.retryAfter = Math.min(15, Number(response.headers.get("retry-after")) || 2);
      throw failure;
    }
    // A stale token (a page older than the server's key), or a lost session: a fresh token may mend it.
    if (["csrf", "no_session"].includes(answer.code) || (response.status === 403 && !answer.code)) {
      throw new PostFailure("restarted", answer.error);
    }
    if (response.status === 401 || response.status === 403) { throw new PostFailure("refused", answer.error); }
    if (response.status >= 500) { throw new PostFailure("server_error", answer.error); }
    throw new PostFailure("refused", answer.error);
  }

  // One post, retried once when retrying can help: after a fresh token (a restarted server, a stale
  // page), after a pause (too many posts at once, a dropped connection). The canvas is never touched here.
  async function post(path, data) {
    try {
      return await postOnce(path, data);
    } catch (failure) {
      if (!(failure instanceof PostFailure) || failure.kind === "refused") { throw failure; }
      if (failure.kind === "restarted") {
        const renewed = await freshToken().catch(() => false);
        if (!renewed) { throw failure; }
      } else {
        say(words.retrying, "problem"); // shown while the page waits, then replaced by the outcome
        await wait(failure.retryAfter ? failure.retryAfter * 1000 : RETRY_MS);
      }
      return await postOnce(path, data);
    }
  }

  // A drawing that was not saved: what happened, and that the drawing is still on the pad.
  function notSaved(error) {
    const kind = error instanceof PostFailure ? error.kind : "server_error";
    say(words[kind] || words.server_error, "problem");
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
    $("undo").disabled = strokes.length === 0 || busy;
    $("clear").disabled = strokes.length === 0 || busy;
    $("submit").disabled = strokes.length === 0 || busy || prompt === null;
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
    if (event.button !== 0 || current !== null || busy || strokes.length >= MAX_STROKES || pointCount() >= MAX_POINTS) { return; }
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    if (pointer === null) { pointer = ["mouse", "pen", "touch"].includes(event.pointerType) ? event.pointerType : "mouse"; }
    current = { id: event.pointerId, points: [toPoint(event)] };
    strokes.push(current.points);
    submission = null; // a changed drawing is a new submission
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
    submission = null;
    redraw();
  }

  // --- prompts and answers -----------------------------------------------------------------------------

  function showCount() {
    $("count").textContent = String(drawn);
    $("progress").value = Math.min(drawn, GOAL);
  }

  function numberName(className) {
    // Class names are the numbers' values ("0" .. "10"); the catalogue has them in words.
    const value = /^\d+$/.test(className) ? Number(className) : -1;
    const word = value >= 0 && value < words.numbers.length ? words.numbers[value] : "";
    return word && word !== className ? word + " (" + className + ")" : className;
  }

  function showPrompt(answer) {
    const script = words.scripts[answer.config] || answer.script;
    const number = numberName(answer.class_name);
    $("numeral").src = answer.image;
    $("numeral").dataset.className = answer.class_name;
    $("numeral").alt = fmt(words.numeral_alt, { script: script, number: answer.class_name });
    $("numeral-text").textContent = fmt(words.prompt, { script: script, number: number });
    $("numeral-text").title = answer.code_point;
  }

  function showFinished() {
    prompt = null;
    $("drawing").hidden = true;
    $("finished").hidden = false;
    say("");
  }

  async function nextPrompt() {
    const after = prompt && prompt.config === config ? "&after=" + prompt.label : "";
    let response;
    try {
      response = await fetch("/api/prompt?config=" + encodeURIComponent(config) + after, { credentials: "same-origin" });
    } catch (error) {
      say(words.offline, "problem");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { say(words.server_error, "problem"); return; }
    drawn = answer.drawn;
    showCount();
    if (answer.done) { showFinished(); return; }
    $("finished").hidden = true;
    if ($("thanks").hidden) { $("drawing").hidden = false; }
    prompt = answer;
    showPrompt(answer);
    reset();
  }

  async function submit() {
    if (!prompt || strokes.length === 0 || busy) { return; }
    busy = true;
    redraw();
    if (submission === null) { submission = newSubmissionId(); }
    try {
      const answer = await post("/api/drawing", {
        config: prompt.config, label: prompt.label, pointer: pointer || "mouse", strokes: strokes,
        submission: submission,
      });
      drawn = answer.drawn;
      showCount();
      say(encouragement(drawn), "saved");
      if (drawn >= GOAL && !thanked) { thank(); }
      await nextPrompt(); // still busy: a second tap meanwhile would answer the numeral just answered
    } catch (error) {
      notSaved(error);
    } finally {
      busy = false;
      redraw();
    }
  }

  function encouragement(count) {
    if (count === 1) { return words.saved_first; }
    if (count % 10 === 0) { return fmt(words.saved_tens, { count: count }); }
    if (count === Math.floor(GOAL / 2)) { return words.saved_half; }
    return fmt(words.saved, { count: count });
  }

  async function decline(reason) {
    if (!prompt || busy) { return; }
    busy = true;
    try {
      await post("/api/decline", { config: prompt.config, label: prompt.label, reason: reason });
      say(reason === "unknown" ? words.unknown_noted : words.skipped);
      await nextPrompt();
    } catch (error) {
      say(words.answer_failed, "problem");
    } finally {
      busy = false;
      redraw();
    }
  }

  async function thank() {
    thanked = true;
    $("thanks-count").textContent = String(drawn);
    $("drawing").hidden = true;
    $("thanks").hidden = false;
    if (deleteCode === null) {
      // The code shown at consent is gone after a reload: the server makes a fresh one (the old one stops working).
      try { deleteCode = (await post("/api/delete-code", {})).delete_code; } catch (error) { deleteCode = null; }
    }
    $("delete-code").textContent = deleteCode || "";
  }

  async function deleteDrawings(path, data) {
    try {
      const answer = await post(path, data);
      say(fmt(words.deleted, { count: answer.deleted }), "saved");
      return answer;
    } catch (error) {
      if (error instanceof PostFailure && error.kind === "refused") { say(words.no_such_code, "problem"); }
      else { say(words.answer_failed, "problem"); }
      return null;
    }
  }

  // --- wiring -----------------------------------------------------------------------------------------

  function chosenAge() {
    const checked = document.querySelector('input[name="age"]:checked');
    return checked ? checked.value : null;
  }
  for (const radio of document.querySelectorAll('input[name="age"]')) {
    radio.addEventListener("change", () => { $("agree").disabled = chosenAge() === null; });
  }
  $("agree").disabled = chosenAge() === null;

  $("agree").addEventListener("click", async () => {
    if (chosenAge() === null || busy) { return; }
    busy = true;
    $("agree").disabled = true;
    try {
      const answer = await post("/api/consent", { basis: chosenAge() });
      deleteCode = answer.delete_code || null;
      say("");
      busy = false;
      begin();
    } catch (error) {
      say(words.consent_failed, "problem");
    } finally {
      busy = false;
      $("agree").disabled = chosenAge() === null;
    }
  });
  $("undo").addEventListener("click", () => { strokes.pop(); submission = null; redraw(); });
  $("clear").addEventListener("click", reset);
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", () => decline("skip"));
  $("unknown").addEventListener("click", () => decline("unknown"));
  $("more").addEventListener("click", () => { $("thanks").hidden = true; $("drawing").hidden = prompt === null; resize(); });
  for (const button of document.querySelectorAll(".script")) {
    button.addEventListener("click", () => {
      config = button.dataset.config;
      for (const other of document.querySelectorAll(".script")) { other.classList.toggle("chosen", other === button); }
      $("finished").hidden = true;
      $("drawing").hidden = false;
      nextPrompt();
    });
  }
  $("contact").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/contact", { name: $("contact-name").value, email: $("contact-email").value });
      $("contact-status").textContent = words.contact_thanks;
    } catch (error) {
      $("contact-status").textContent = error instanceof PostFailure && error.kind === "refused" ? words.contact_refused : words.answer_failed;
    }
  });
  $("delete-mine").addEventListener("click", async () => {
    if (!window.confirm(words.confirm_delete)) { return; }
    const answer = await deleteDrawings("/api/delete", {});
    if (answer !== null) { drawn = 0; showCount(); }
  });
  $("delete-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("delete-input").value.trim();
    if (!code || !window.confirm(words.confirm_delete)) { return; }
    await deleteDrawings("/api/delete-with-code", { code: code });
  });
  window.addEventListener("resize", resize);

  function begin() {
    $("consent").hidden = true;
    $("drawing").hidden = false;
    body.classList.add("drawing-now");
    $("scripts").hidden = document.querySelectorAll(".script").length < 2;
    document.querySelector(".script").classList.add("chosen");
    window.scrollTo(0, 0); // the status line, at the top, carries every message
    resize();
    nextPrompt();
  }

  if (body.dataset.consented === "yes") { begin(); }
})();
