// The drawing page served at `/`: one self-contained HTML document (inline CSS and JS, no outside
// requests). It posts the canvas as a PNG data URL to /api/predict, debounced while drawing.
// `?demo=D` (D a digit) draws a built-in stroke path for D and predicts it, for headless checks;
// `?addend=A` preselects the addend. With `serve --collect` the page also offers ten "this is a D" buttons
// that post the drawing to /api/collect and show how many samples each digit has. The layout fits a 390-px
// phone (one column below 480 px, the canvas scaled to the width) and a desktop; scripts/server/browser-check.sh
// checks both, with and without the collect buttons.
import Foundation

enum Page {
    /// The page with the configured addend range filled in; `collect` shows the buttons that save the
    /// drawing under its digit (the server must answer `POST /api/collect`).
    static func html(addendRange: ClosedRange<Int>, collect: Bool = false) -> String {
        template
            .replacingOccurrences(of: "__ADDEND_MIN__", with: String(addendRange.lowerBound))
            .replacingOccurrences(of: "__ADDEND_MAX__", with: String(addendRange.upperBound))
            .replacingOccurrences(of: "__COLLECT__", with: collect ? "true" : "false")
    }

    static let template = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnist-adder</title>
<link rel="icon" href="data:,">
<style>
  :root { --ink: #1d2330; --muted: #6b7385; --line: #e3e6ec; --accent: #2f6fde; --bg: #f4f5f8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
         color: var(--ink); background: var(--bg); }
  :root { --pad: clamp(12px, 4vw, 28px); }
  header { padding: 18px var(--pad) 6px; }
  header, main, footer { max-width: 940px; margin-left: auto; margin-right: auto; }
  h1 { margin: 0; font-size: 22px; letter-spacing: .2px; }
  header p { margin: 2px 0 0; color: var(--muted); }
  main { display: flex; flex-wrap: wrap; gap: 20px; padding: 14px var(--pad) 10px; align-items: stretch; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 18px;
          box-shadow: 0 1px 3px rgba(20, 30, 60, .06); }
  .draw { width: 318px; max-width: 100%; }
  #pad { width: 100%; max-width: 280px; height: auto; aspect-ratio: 1 / 1; border-radius: 8px; background: #000;
         touch-action: none; user-select: none; -webkit-user-select: none; -webkit-touch-callout: none;
         cursor: crosshair; display: block; }
  button:focus-visible, input:focus-visible, #pad:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .label { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 14px 0 6px; }
  #addends { display: flex; flex-wrap: wrap; gap: 3px; }
  #addends button { flex: 1 0 24px; max-width: 40px; height: 30px; padding: 0; }
  button { font: inherit; border: 1px solid var(--line); background: #fff; border-radius: 6px; cursor: pointer;
           color: var(--ink); }
  button:hover { border-color: #b9c0cc; }
  #addends button.on { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
  #addend-number { width: 90px; font: inherit; padding: 4px 6px; }
  #clear { margin-top: 14px; width: 100%; height: 34px; }
  #labels { display: flex; flex-wrap: wrap; gap: 3px; }
  #labels button { flex: 1 0 24px; max-width: 40px; height: 38px; padding: 0; display: flex; flex-direction: column;
                   align-items: center; justify-content: center; line-height: 1.1; }
  #labels b { font-weight: 600; }
  #labels small { font-size: 10.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
  #collect-status { color: var(--muted); font-size: 12.5px; min-height: 18px; margin-top: 6px; overflow-wrap: anywhere; }
  #collect-status.error { color: #b3261e; }
  .result { flex: 1 1 320px; max-width: 520px; min-width: 0; }
  .top { display: flex; align-items: center; gap: 22px; }
  #digit { font-size: 92px; font-weight: 700; line-height: 1; width: 84px; text-align: center;
           font-variant-numeric: tabular-nums; }
  #equation { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
  #raw { color: var(--muted); font-size: 13px; }
  #status { color: var(--muted); font-size: 13px; min-height: 19px; margin-top: 8px; }
  #status.error { color: #b3261e; }
  #bars { display: flex; align-items: flex-end; gap: 8px; height: 150px; padding-top: 18px;
          border-bottom: 1px solid var(--line); }
  .bar { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: flex-end; height: 100%; }
  .bar .fill { width: 100%; background: #c9d5ea; border-radius: 4px 4px 0 0; min-height: 1px; }
  .bar.best .fill { background: var(--accent); }
  .bar .pct { font-size: 10.5px; color: var(--muted); margin-bottom: 3px; font-variant-numeric: tabular-nums; }
  .names { display: flex; gap: 8px; margin-top: 4px; }
  .names span { flex: 1; text-align: center; font-weight: 600; font-size: 13px; }
  .seen { display: flex; align-items: center; gap: 12px; margin-top: 16px; color: var(--muted); font-size: 13px; }
  #seen { width: 56px; height: 56px; image-rendering: pixelated; background: #000; border-radius: 4px; }
  footer { padding: 0 var(--pad) 20px; color: var(--muted); font-size: 12.5px; overflow-wrap: anywhere; }
  @media (max-width: 480px) {
    main { gap: 14px; }
    .card { padding: 14px; }
    .draw { width: 100%; }
    #pad { margin: 0 auto; }
    .top { gap: 14px; }
    #digit { font-size: 72px; width: 64px; }
    #bars, .names { gap: 4px; }
    #bars { height: 110px; }
    header { padding-top: 12px; }
  }
</style>
</head>
<body data-state="idle">
<header>
  <h1>mnist-adder</h1>
  <p>Draw a digit; the network reads it and adds the number you pick.</p>
</header>
<main>
  <section class="card draw">
    <canvas id="pad" width="280" height="280" tabindex="0"
            aria-label="drawing area: draw a digit with a mouse, finger or pen; Delete or Escape clears it"></canvas>
    <div class="label">Addend</div>
    <div id="addends"></div>
    <button id="clear" type="button">Clear</button>
    <div id="collect" hidden>
      <div class="label" id="collect-label">Teach it: this is a…</div>
      <div id="labels" role="group" aria-labelledby="collect-label"></div>
      <div id="collect-status" aria-live="polite">&nbsp;</div>
    </div>
  </section>
  <section class="card result" aria-live="polite">
    <div class="top">
      <div id="digit">–</div>
      <div>
        <div id="equation">draw a digit</div>
        <div id="raw">&nbsp;</div>
      </div>
    </div>
    <div id="status">&nbsp;</div>
    <div id="bars"></div>
    <div class="names" id="names"></div>
    <div class="seen"><canvas id="seen" width="28" height="28"></canvas>
      <span>What the network sees: 28×28, centred by mass as in MNIST.</span></div>
  </section>
</main>
<footer id="model">&nbsp;</footer>
<script>
(() => {
  "use strict";
  const MIN = __ADDEND_MIN__, MAX = __ADDEND_MAX__;
  const COLLECT = __COLLECT__;
  const params = new URLSearchParams(location.search);
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const $ = (id) => document.getElementById(id);
  const LINE = 22;
  let addend = clampAddend(Number(params.get("addend") ?? MIN));
  let drawing = false, hasInk = false, last = null, timer = null, seq = 0;

  function clampAddend(v) { return Number.isInteger(v) ? Math.min(MAX, Math.max(MIN, v)) : MIN; }

  // Bars and digit labels, built once.
  const bars = [];
  for (let d = 0; d < 10; d++) {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.innerHTML = '<span class="pct">0%</span><div class="fill" style="height:1px"></div>';
    $("bars").appendChild(bar);
    bars.push(bar);
    const name = document.createElement("span");
    name.textContent = d;
    $("names").appendChild(name);
  }

  // Addend picker: buttons for a short range, a number field otherwise.
  if (MAX - MIN <= 20) {
    for (let v = MIN; v <= MAX; v++) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = v;
      b.dataset.value = v;
      b.addEventListener("click", () => setAddend(v));
      $("addends").appendChild(b);
    }
  } else {
    const input = document.createElement("input");
    Object.assign(input, { id: "addend-number", type: "number", min: MIN, max: MAX, step: 1, value: addend });
    input.addEventListener("change", () => setAddend(clampAddend(Number(input.value))));
    $("addends").appendChild(input);
  }
  function setAddend(v) {
    addend = v;
    for (const b of $("addends").querySelectorAll("button")) b.classList.toggle("on", Number(b.dataset.value) === v);
    if (hasInk) predictNow();
  }

  // "This is a D" buttons (serve --collect): each saves the drawing as a sample of D and shows D's count.
  const saves = [];
  if (COLLECT) {
    $("collect").hidden = false;
    for (let d = 0; d < 10; d++) {
      const b = document.createElement("button");
      b.type = "button";
      b.id = `save-${d}`;
      b.innerHTML = `<b>${d}</b><small>0</small>`;
      b.setAttribute("aria-label", `save the drawing as a ${d}`);
      b.addEventListener("click", () => save(d));
      $("labels").appendChild(b);
      saves.push(b);
    }
    fetch("/api/collect").then((r) => r.json()).then(showCounts).catch(() => {});
  }
  function showCounts(c) {
    if (!c || !Array.isArray(c.counts)) return;
    c.counts.forEach((n, d) => {
      saves[d].querySelector("small").textContent = n;
      saves[d].setAttribute("aria-label", `save the drawing as a ${d} (${n} saved)`);
    });
  }
  function setCollectStatus(text, isError) {
    $("collect-status").textContent = text || "\u00a0";
    $("collect-status").className = isError ? "error" : "";
    document.body.dataset.collect = isError ? "error" : "saved";
  }
  async function save(d) {
    if (!hasInk) { setCollectStatus("Draw a digit first.", true); return; }
    document.body.dataset.collect = "busy";
    try {
      const res = await fetch("/api/collect", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: pad.toDataURL("image/png"), addend, label: d }),
      });
      const body = await res.json();
      if (!res.ok) { setCollectStatus(`Not saved (${res.status}): ${body.error}`, true); return; }
      showCounts(body.collection);
      clearPad();
      setCollectStatus(`Saved as ${d}: ${body.file}; ${body.collection.counts[d]} of ${d}, ${body.collection.total} in all.`, false);
    } catch (err) {
      setCollectStatus(`Not saved: ${err}`, true);
    }
  }

  function clearPad() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    seq++;
    showIdle();
  }
  ctx.lineCap = "round";
  ctx.lineJoin = "round";

  function point(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function dot(p) {
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(p[0], p[1], LINE / 2, 0, 2 * Math.PI);
    ctx.fill();
    hasInk = true;
  }
  function segment(a, b) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = LINE;
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
    hasInk = true;
  }
  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    drawing = true;
    last = point(e);
    dot(last);
    schedule();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of (events.length ? events : [e])) {
      const p = point(ev);
      segment(last, p);
      last = p;
    }
    schedule();
  });
  const finish = () => { if (drawing) { drawing = false; predictNow(); } };
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  $("clear").addEventListener("click", clearPad);
  pad.addEventListener("keydown", (e) => {
    if (e.key === "Delete" || e.key === "Backspace" || e.key === "Escape") { e.preventDefault(); clearPad(); }
  });

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(predictNow, 150);
  }

  async function predictNow() {
    clearTimeout(timer);
    if (!hasInk) return;
    const id = ++seq;
    document.body.dataset.state = "busy";
    try {
      const res = await fetch("/api/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: pad.toDataURL("image/png"), addend }),
      });
      const body = await res.json();
      if (id !== seq) return;
      if (res.ok) render(body, id); else showError(res.status, body.error);
    } catch (err) {
      if (id === seq) showError(0, String(err));
    }
  }

  function render(r, id) {
    $("digit").textContent = r.digit;
    $("equation").textContent = `${r.digit} + ${r.addend} = ${r.roundedSum}`;
    $("raw").textContent = `adder output ${r.sum.toFixed(3)}`;
    r.probabilities.forEach((p, d) => {
      bars[d].querySelector(".fill").style.height = `${Math.max(0.5, p * 100)}%`;
      bars[d].querySelector(".pct").textContent = p >= 0.9995 ? "100%" : `${(p * 100).toFixed(1)}%`;
      bars[d].classList.toggle("best", d === r.digit);
    });
    const seen = $("seen").getContext("2d");
    // The answer echoes what the network saw as a 28×28 PNG data URL.
    const echo = new Image();
    echo.onload = () => { if (id === seq) { seen.clearRect(0, 0, 28, 28); seen.drawImage(echo, 0, 0); } };
    echo.src = r.input.image;
    const doubt = r.unsure ? `Unsure: ${r.reason}. ` : "";
    setStatus(`${doubt}${r.milliseconds.toFixed(1)} ms on the server`, false);
    document.body.dataset.unsure = r.unsure ? "true" : "false";
    document.body.dataset.state = "ready";
  }

  function showIdle() {
    $("digit").textContent = "–";
    $("equation").textContent = "draw a digit";
    $("raw").innerHTML = "&nbsp;";
    for (const b of bars) {
      b.querySelector(".fill").style.height = "1px";
      b.querySelector(".pct").textContent = "";
      b.classList.remove("best");
    }
    $("seen").getContext("2d").clearRect(0, 0, 28, 28);
    setStatus("", false);
    document.body.dataset.state = "idle";
  }

  function showError(status, message) {
    if (status === 422) { showIdle(); setStatus("No digit found yet: draw a bigger or bolder stroke.", false); return; }
    setStatus(`Error${status ? " " + status : ""}: ${message}`, true);
    document.body.dataset.state = "error";
  }

  function setStatus(text, isError) {
    $("status").textContent = text || "\u00a0";
    $("status").className = isError ? "error" : "";
  }

  // Built-in strokes for ?demo=D, in a unit box (x right, y down); angles in degrees, 90 = down.
  function arc(cx, cy, rx, ry, from, to, n = 28) {
    const pts = [];
    for (let i = 0; i <= n; i++) {
      const a = (from + (to - from) * i / n) * Math.PI / 180;
      pts.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
    }
    return pts;
  }
  const strokes = {
    0: [arc(0.5, 0.5, 0.32, 0.44, 0, 360)],
    1: [[[0.34, 0.24], [0.56, 0.06], [0.56, 0.94]]],
    2: [arc(0.5, 0.3, 0.3, 0.23, 190, 400).concat([[0.18, 0.93], [0.84, 0.93]])],
    3: [arc(0.48, 0.28, 0.27, 0.2, 200, 450).concat(arc(0.48, 0.7, 0.31, 0.22, 270, 520))],
    4: [[[0.64, 0.94], [0.64, 0.06], [0.14, 0.66], [0.88, 0.66]]],
    5: [[[0.8, 0.08], [0.3, 0.08], [0.25, 0.46]].concat(arc(0.5, 0.67, 0.32, 0.27, 220, 520))],
    6: [[[0.7, 0.05], [0.4, 0.32]].concat(arc(0.5, 0.68, 0.29, 0.26, 200, 560))],
    7: [[[0.16, 0.08], [0.84, 0.08], [0.42, 0.94]]],
    8: [arc(0.5, 0.27, 0.23, 0.21, 90, 450), arc(0.5, 0.7, 0.29, 0.23, 270, 630)],
    9: [arc(0.5, 0.3, 0.27, 0.23, 0, 360).concat([[0.77, 0.3], [0.7, 0.94]])],
  };
  function drawDemo(d) {
    const box = { x: 75, y: 40, w: 130, h: 200 };
    for (const stroke of strokes[d]) {
      const pts = stroke.map(([u, v]) => [box.x + u * box.w, box.y + v * box.h]);
      dot(pts[0]);
      for (let i = 1; i < pts.length; i++) segment(pts[i - 1], pts[i]);
    }
    predictNow();
  }

  fetch("/api/model").then((r) => r.json()).then((m) => {
    const parts = [`${m.summary.parameterCount.toLocaleString("en-US")} parameters`,
                   `addends ${m.addendMinimum}–${m.addendMaximum}`];
    // Long JSON values (options, metrics) stay in /api/model; the footer shows what a person reads.
    const meta = m.metadata;
    if (meta.checkpoint) parts.push(`checkpoint ${meta.checkpoint.split("/").pop()}`);
    if (meta.epoch) parts.push(`epoch ${meta.epoch}`);
    // metrics is a JSON object (GET /api/model parses the metadata written as JSON).
    const metrics = meta.metrics;
    if (metrics && typeof metrics === "object")
      parts.push(`test accuracy ${(100 * metrics.testClassificationAccuracy).toFixed(2)}% (digit), `
                 + `${(100 * metrics.testAdditionAccuracy).toFixed(2)}% (sum)`);
    $("model").textContent = parts.join(" · ");
  }).catch(() => {});

  clearPad();
  setAddend(addend);
  const demo = params.get("demo");
  if (demo !== null && /^[0-9]$/.test(demo)) drawDemo(Number(demo));
})();
</script>
</body>
</html>
"""#
}
