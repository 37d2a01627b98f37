"use strict";
// The findings table with JavaScript: filtering, sorting, grouping by resource and paging over
// every finding, read from the page's own JSON data (never evaluated, only JSON.parse'd). Rows are
// built with createElement and textContent only: no string from the data is ever parsed as markup,
// and nothing is fetched. Without JavaScript the page shows the rows rendered into it.
(function () {
  const table = document.getElementById("findings-table");
  const form = document.getElementById("filters");
  const dataEl = document.getElementById("report-data");
  if (!table || !form || !dataEl) return;
  const data = JSON.parse(dataEl.textContent);
  const tbody = table.tBodies[0];
  const shown = document.getElementById("shown");
  const more = document.getElementById("more-rows");
  const PAGE = 250;
  const SEV = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  const STATUS = { fail: 0, not_evaluated: 1, pass: 2 };
  const LABEL = { fail: "fail", not_evaluated: "not evaluated", pass: "pass" };

  const items = data.findings.map((a, n) => {
    const check = data.checks[a[0]] || { id: "", title: "", risk: "", remediation: "", compliance: [] };
    return {
      n, check, severity: a[1], sev: SEV[a[1]], status: a[2], cloud: a[3], account: data.accounts[a[4]],
      category: a[5], rid: a[6], rname: a[7], rtype: a[8], region: a[9], message: a[10], evidence: a[11],
      fp: a[12], fixes: a[13] || [], state: a[14] || null, text: null,
    };
  });
  let limit = PAGE;
  let sortKey = null;
  let sortDir = 1;

  const keyOf = {
    sev: (x) => -x.sev,
    status: (x) => STATUS[x.status],
    cloud: (x) => x.cloud,
    account: (x) => x.account,
    check: (x) => x.check.id,
    resource: (x) => x.rname + "\u0000" + x.rid,
  };
  function compare(a, b, key) {
    const x = keyOf[key](a), y = keyOf[key](b);
    return x < y ? -1 : x > y ? 1 : a.n - b.n;
  }
  function textOf(x) {
    if (x.text === null) {
      x.text = [x.severity, LABEL[x.status], x.state || "", x.cloud, x.account, x.check.id, x.check.title, x.rname, x.rid, x.rtype,
        x.region || "", x.message, x.evidence.map((e) => e[0] + " " + e[1]).join(" "), x.fp].join("\n").toLowerCase();
    }
    return x.text;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function checkLink(x, text) {
    const a = el("a", null, text);
    a.href = "#check-" + x.check.id; // a check id: [a-z0-9_] only, validated with the metadata
    return a;
  }
  // The same row the page renders without JavaScript.
  function row(x) {
    const tr = el("tr", "finding st-" + x.status);
    Object.assign(tr.dataset, {
      n: x.n, severity: x.severity, sev: x.sev, status: x.status, cloud: x.cloud, account: x.account,
      category: x.category, check: x.check.id, resource: x.rid, resourceName: x.rname,
    });
    const sev = el("td"); sev.appendChild(el("span", "sev sev-" + x.severity, x.severity));
    const st = el("td"); st.appendChild(el("span", "status status-" + x.status, LABEL[x.status]));
    // new / unchanged / suppressed: a fixed vocabulary from the scanner, never inventory text.
    if (x.state) { st.appendChild(document.createTextNode(" ")); st.appendChild(el("span", "triage triage-" + x.state, x.state)); }
    const chk = el("td", "chk"); chk.appendChild(checkLink(x, x.check.title)); chk.appendChild(el("span", "mono cid", x.check.id));
    const res = el("td", "res"); res.appendChild(el("span", "name", x.rname));
    res.appendChild(el("span", "type", x.rtype + (x.region ? " · " + x.region : "")));
    const fin = el("td");
    const det = el("details");
    det.appendChild(el("summary", null, x.message));
    const body = el("div", "detail");
    body.appendChild(el("p", "mono id", x.rid));
    if (x.evidence.length) {
      const dl = el("dl", "evidence");
      for (const [k, v] of x.evidence) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
      body.appendChild(dl);
    }
    body.appendChild(el("h5", null, "Why it matters"));
    body.appendChild(el("p", null, x.check.risk));
    body.appendChild(el("h5", null, "How to fix it"));
    body.appendChild(el("p", null, x.check.remediation));
    if (x.check.compliance.length) {
      const p = el("p", "maps");
      for (const c of x.check.compliance) p.appendChild(el("span", null, c));
      body.appendChild(p);
    }
    const link = el("p"); link.appendChild(checkLink(x, x.check.title + ": the check, its mappings, references and suggested fix")); body.appendChild(link);
    if (x.fixes.length) {
      body.appendChild(el("h5", null, "Suggested fix"));
      const p = el("p");
      x.fixes.forEach((path, i) => { if (i) p.appendChild(document.createTextNode(", ")); p.appendChild(el("code", null, path)); });
      p.appendChild(document.createTextNode(" (under the --fixes directory; its README says how to apply and roll back)"));
      body.appendChild(p);
    }
    body.appendChild(el("p", "fp", "fingerprint " + x.fp));
    det.appendChild(body);
    fin.appendChild(det);
    for (const td of [sev, st, el("td", null, x.cloud), el("td", "mono acct", x.account), chk, res, fin]) tr.appendChild(td);
    return tr;
  }

  // Groups by resource, the ones to fix first on top: the most severe failure, then the most
  // failures, then the most findings, then the name.
  function grouped(list) {
    const groups = new Map();
    for (const x of list) {
      const g = groups.get(x.rid);
      if (g) g.push(x); else groups.set(x.rid, [x]);
    }
    const out = Array.from(groups.values()).map((g) => {
      const failing = g.filter((x) => x.status === "fail");
      return { items: g, fails: failing.length, sev: failing.reduce((m, x) => Math.max(m, x.sev), -1) };
    });
    out.sort((a, b) => b.sev - a.sev || b.fails - a.fails || b.items.length - a.items.length ||
      (a.items[0].rname < b.items[0].rname ? -1 : a.items[0].rname > b.items[0].rname ? 1 : 0));
    return out;
  }

  function render() {
    const started = performance.now();
    const f = form.elements;
    const want = [
      ["severity", f.severity.value], ["status", f.status.value], ["cloud", f.cloud.value],
      ["account", f.account.value], ["category", f.category.value], ["check", f.check.value],
    ].filter(([, v]) => v);
    const q = f.q.value.trim().toLowerCase();
    let list = items.filter((x) => {
      for (const [k, v] of want) if ((k === "check" ? x.check.id : x[k]) !== v) return false;
      return !q || textOf(x).includes(q);
    });
    if (sortKey) list.sort((a, b) => sortDir * compare(a, b, sortKey));
    const frag = document.createDocumentFragment();
    let count = 0;
    if (f.group.checked) {
      for (const g of grouped(list)) {
        if (count >= limit) break;
        const head = el("tr", "group");
        const th = el("th", null, g.items[0].rname + ": " + g.items.length + (g.items.length === 1 ? " finding" : " findings") +
          (g.fails && g.fails < g.items.length ? " (" + g.fails + " failing)" : ""));
        th.colSpan = 7;
        th.scope = "rowgroup";
        head.appendChild(th);
        frag.appendChild(head);
        for (const x of g.items) {
          if (count >= limit) break;
          frag.appendChild(row(x));
          count++;
        }
      }
    } else {
      for (const x of list.slice(0, limit)) frag.appendChild(row(x));
      count = Math.min(limit, list.length);
    }
    tbody.replaceChildren(frag);
    shown.textContent = "showing " + count + " of " + list.length + (list.length !== items.length ? " matching (" + items.length + " in all)" : "");
    shown.dataset.matching = String(list.length);
    more.hidden = list.length <= limit;
    document.body.dataset.lastRenderMs = String(Math.round(performance.now() - started));
  }

  let timer = 0;
  form.addEventListener("input", (e) => {
    clearTimeout(timer);
    limit = PAGE;
    if (e.target.name === "q") timer = setTimeout(render, 120);
    else render();
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener("reset", () => {
    sortKey = null;
    sortDir = 1;
    limit = PAGE;
    for (const h of table.tHead.querySelectorAll("th[data-sort]")) h.removeAttribute("aria-sort");
    setTimeout(render, 0);
  });
  document.getElementById("show-more").addEventListener("click", () => { limit += PAGE * 4; render(); });
  table.tHead.addEventListener("click", (e) => {
    const th = e.target.closest("th[data-sort]");
    if (!th) return;
    const key = th.dataset.sort;
    sortDir = sortKey === key ? -sortDir : 1;
    sortKey = key;
    for (const h of table.tHead.querySelectorAll("th[data-sort]")) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    render();
  });

  // Printing shows the evidence of the rows on screen.
  let opened = [];
  window.addEventListener("beforeprint", () => {
    opened = Array.from(tbody.querySelectorAll("details:not([open])"));
    opened.forEach((d) => { d.open = true; });
  });
  window.addEventListener("afterprint", () => { opened.forEach((d) => { d.open = false; }); opened = []; });

  table.dataset.page = String(PAGE);
  shown.dataset.total = String(items.length);
  const note = document.getElementById("static-note");
  if (note) note.hidden = true;
  form.hidden = false;
  render();
})();
