// The review page (GET /review) and its script (GET /review.js): plain HTML, no build step,
// no framework. It asks for the reviewer's token (kept in sessionStorage for the tab), lists
// the pending cases with why each is held (sorted and filtered in the page by severity,
// agent and reason), shows one case's explanation, goal, evidence, reasons and timeline,
// and confirms or overturns it through the review API. Everything from a case is written
// with textContent: explanations, goals, reasons, notes and resource ids are
// attacker-influenced text.

export const REVIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil review</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem; color: #1b1b1b; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ccc; vertical-align: top; }
  caption { text-align: left; font-weight: 600; padding: .25rem 0; }
  button { font: inherit; padding: .35rem .8rem; margin-right: .5rem; cursor: pointer; }
  button:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
  textarea { width: 100%; min-height: 4rem; font: inherit; }
  .muted { color: #555; }
  #status { min-height: 1.5rem; font-weight: 600; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
  dt { font-weight: 600; }
  .controls { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: end; margin: .5rem 0; }
  .controls label { display: block; font-weight: 600; }
  select { font: inherit; padding: .2rem; }
  .why { font-size: 1.05rem; border-left: 4px solid #b5421a; padding: .25rem .75rem; }
  blockquote { margin: .25rem 0 1rem; padding: .25rem .75rem; border-left: 4px solid #888; white-space: pre-wrap; overflow-wrap: anywhere; }
</style>
</head>
<body>
<main>
  <h1>Vigil review</h1>
  <form id="auth">
    <label for="token">Reviewer token</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit">Sign in</button>
  </form>
  <p id="status" role="status" aria-live="polite"></p>
  <section aria-labelledby="cases-heading">
    <h2 id="cases-heading">Pending cases</h2>
    <div class="controls">
      <div><label for="sort">Sort by</label>
        <select id="sort">
          <option value="newest">Newest first</option>
          <option value="severity">Severity, highest first</option>
          <option value="agent">Agent, A to Z</option>
          <option value="reason">Reason, A to Z</option>
        </select></div>
      <div><label for="filter-severity">Severity</label>
        <select id="filter-severity"><option value="">All severities</option><option value="high">High</option><option value="medium">Medium</option><option value="low">Low</option></select></div>
      <div><label for="filter-agent">Agent</label>
        <select id="filter-agent"><option value="">All agents</option></select></div>
      <div><label for="filter-reason">Reason</label>
        <select id="filter-reason"><option value="">All reasons</option></select></div>
    </div>
    <table id="cases">
      <caption id="cases-caption">Sessions held for a person</caption>
      <thead><tr><th scope="col">Severity</th><th scope="col">Session</th><th scope="col">Agent</th><th scope="col">Principal</th><th scope="col">Opened</th><th scope="col">Why</th><th scope="col">Reasons</th><th scope="col"><span class="muted">Case</span></th></tr></thead>
      <tbody></tbody>
    </table>
    <button id="refresh" type="button">Refresh</button>
  </section>
  <section id="detail" aria-labelledby="detail-heading" hidden>
    <h2 id="detail-heading">Case</h2>
    <dl id="facts"></dl>
    <h3>Why it is held</h3>
    <p id="explanation" class="why"></p>
    <h3>What the session was asked to do</h3>
    <blockquote id="goal"></blockquote>
    <table id="evidence">
      <caption>Evidence</caption>
      <thead><tr><th scope="col">Role</th><th scope="col">Time</th><th scope="col">Session</th><th scope="col">Agent</th><th scope="col">Capability</th><th scope="col">Event</th><th scope="col">Finding</th></tr></thead>
      <tbody></tbody>
    </table>
    <h3>Reasons</h3>
    <ul id="reasons"></ul>
    <table id="timeline">
      <caption>Timeline</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Capability</th><th scope="col">Resource</th><th scope="col">Decision</th><th scope="col">Findings</th></tr></thead>
      <tbody></tbody>
    </table>
    <label for="note">Note (optional)</label>
    <textarea id="note" maxlength="2000"></textarea>
    <p>
      <button id="overturn" type="button">Overturn: give the capabilities back</button>
      <button id="confirm" type="button">Confirm the hold</button>
      <button id="revoke" type="button">Confirm and revoke</button>
    </p>
  </section>
</main>
<script src="/review.js"></script>
</body>
</html>
`;

export const REVIEW_SCRIPT = `"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const status = (text) => { $("status").textContent = text; };
  const token = () => sessionStorage.getItem("vigil-review-token") || "";
  const RANK = { high: 0, medium: 1, low: 2 };
  const ROLE = { held: "The held event", conflict: "Conflicts with (separation of duties)", earlier: "Earlier event it builds on", source: "The call whose output brought it" };
  let current;
  let all = [];

  async function api(path, options = {}) {
    const auth = token() ? { authorization: "Bearer " + token() } : {};
    const res = await fetch(path, { ...options, headers: { ...(options.headers || {}), ...auth, "content-type": "application/json" } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) throw new Error("Enter your reviewer token (or open this page with a reviewer's client certificate).");
    if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
    return body;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  const codesOf = (c) => c.reasons.map((r) => r.code);
  const severityOf = (c) => c.severity || "low";

  // A select's options from the values the cases have, keeping the reviewer's choice when it is still there.
  function fill(select, label, values) {
    const chosen = select.value;
    const options = [new Option(label, "")];
    for (const v of [...new Set(values)].sort()) options.push(new Option(v, v));
    select.replaceChildren(...options);
    select.value = values.includes(chosen) ? chosen : "";
  }

  // Sorting and filtering happen here, on the cases the API listed: nothing is asked again.
  function render() {
    const severity = $("filter-severity").value, agent = $("filter-agent").value, reason = $("filter-reason").value, sort = $("sort").value;
    const shown = all.filter((c) => (!severity || severityOf(c) === severity) && (!agent || c.agentId === agent) && (!reason || codesOf(c).includes(reason)));
    const newest = (a, b) => Date.parse(b.openedAt) - Date.parse(a.openedAt);
    const order = {
      newest,
      severity: (a, b) => RANK[severityOf(a)] - RANK[severityOf(b)] || (b.riskScore || 0) - (a.riskScore || 0) || newest(a, b),
      agent: (a, b) => a.agentId.localeCompare(b.agentId) || newest(a, b),
      reason: (a, b) => (codesOf(a)[0] || "").localeCompare(codesOf(b)[0] || "") || newest(a, b),
    }[sort] || newest;
    shown.sort(order);
    const body = $("cases").tBodies[0];
    body.replaceChildren();
    for (const c of shown) {
      const row = document.createElement("tr");
      cell(row, severityOf(c)); cell(row, c.sessionId); cell(row, c.agentId); cell(row, c.principalId); cell(row, c.openedAt);
      cell(row, c.explanation || "");
      cell(row, c.reasons.map((r) => r.code + (r.capability ? " (" + r.capability + ")" : "")).join(", "));
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Open case for " + c.sessionId;
      button.addEventListener("click", () => openCase(c.caseId));
      cell(row, "").appendChild(button);
      body.appendChild(row);
    }
    $("cases-caption").textContent = "Sessions held for a person, " + $("sort").selectedOptions[0].textContent.toLowerCase() + (shown.length < all.length ? " (" + shown.length + " of " + all.length + " shown)" : "");
    return shown.length;
  }

  async function loadCases() {
    // Without a token, a server on HTTPS may still know the reviewer by a client certificate (mTLS).
    if (!token() && location.protocol !== "https:") { status("Enter your reviewer token."); return; }
    try {
      all = (await api("/api/review/cases?state=pending&limit=1000")).cases;
      fill($("filter-agent"), "All agents", all.map((c) => c.agentId));
      fill($("filter-reason"), "All reasons", all.flatMap(codesOf));
      const shown = render();
      status(all.length === 0 ? "No case is waiting." : all.length + " case(s) waiting" + (shown < all.length ? ", " + shown + " shown." : "."));
    } catch (e) { status("Could not list cases: " + e.message); }
  }

  function onFilter() {
    const shown = render();
    status(shown + " of " + all.length + " case(s) shown.");
  }

  async function openCase(caseId) {
    try {
      const c = (await api("/api/review/cases/" + encodeURIComponent(caseId))).case;
      current = c;
      const facts = $("facts");
      facts.replaceChildren();
      for (const [k, v] of [["Case", c.caseId], ["Session", c.sessionId], ["Agent", c.agentId], ["Principal", c.principalId], ["State", c.state], ["Opened", c.openedAt]]) {
        const dt = document.createElement("dt"); dt.textContent = k;
        const dd = document.createElement("dd"); dd.textContent = v;
        facts.append(dt, dd);
      }
      $("explanation").textContent = c.explanation || "No explanation was recorded for this case.";
      $("goal").textContent = c.goal || "The session declared no goal.";
      const evidence = $("evidence").tBodies[0];
      evidence.replaceChildren();
      for (const e of c.evidence || []) {
        const row = document.createElement("tr");
        cell(row, ROLE[e.role] || e.role); cell(row, e.time); cell(row, e.sessionId + (e.sessionId === c.sessionId ? " (this session)" : ""));
        cell(row, e.agentId); cell(row, e.capability); cell(row, e.eventId); cell(row, e.code);
        evidence.appendChild(row);
      }
      const reasons = $("reasons");
      reasons.replaceChildren();
      for (const r of c.reasons) {
        const li = document.createElement("li");
        li.textContent = r.code + (r.capability ? " on " + r.capability : "") + (r.hard ? " (hard rule)" : "");
        reasons.appendChild(li);
      }
      const body = $("timeline").tBodies[0];
      body.replaceChildren();
      for (const e of c.timeline) {
        const row = document.createElement("tr");
        cell(row, e.time); cell(row, e.type + " " + e.eventId); cell(row, e.capability); cell(row, e.resourceId);
        cell(row, e.level ? e.level + (e.commandIds ? " → " + e.commandIds.join(", ") : "") : "");
        cell(row, (e.findings || []).map((f) => f.code + " " + f.weight).join(", "));
        body.appendChild(row);
      }
      $("detail").hidden = false;
      $("detail-heading").textContent = "Case for session " + c.sessionId;
      $("detail-heading").tabIndex = -1;
      $("detail-heading").focus();
      status("Case " + c.caseId + " is " + c.state + ".");
    } catch (e) { status("Could not open the case: " + e.message); }
  }

  async function decide(action, revoke) {
    if (!current) return;
    try {
      const note = $("note").value.trim();
      await api("/api/review/cases/" + encodeURIComponent(current.caseId) + "/" + action, { method: "POST", body: JSON.stringify({ ...(note ? { note } : {}), ...(revoke ? { revoke: true } : {}) }) });
      status((action === "overturn" ? "Overturned" : revoke ? "Confirmed and revoked" : "Confirmed") + ": case " + current.caseId + " for session " + current.sessionId + ". The processor applies it in the session's order.");
      $("detail").hidden = true;
      $("note").value = "";
      current = undefined;
      setTimeout(loadCases, 500);
    } catch (e) { status("Not decided: " + e.message); }
  }

  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("vigil-review-token", $("token").value);
    $("token").value = "";
    loadCases();
  });
  $("refresh").addEventListener("click", loadCases);
  for (const id of ["sort", "filter-severity", "filter-agent", "filter-reason"]) $(id).addEventListener("change", onFilter);
  $("overturn").addEventListener("click", () => decide("overturn", false));
  $("confirm").addEventListener("click", () => decide("confirm", false));
  $("revoke").addEventListener("click", () => decide("confirm", true));
  loadCases();
})();
`;
