// Drives the HTML report in headless Chromium (Debian's, through playwright-core) for
// tests/html_report.rs. Usage:
//
//   node html_check.cjs <report.html> <artifact dir> <expectations.json>
//
// It opens the page from disk as a user would, records every request, dialog, console error and
// Content-Security-Policy violation, runs the checks the expectations ask for (content, filters,
// grouping, sorting, no-JavaScript reading, print media, hostile strings, timing) and prints one
// JSON line with what it measured. Any failed expectation exits non-zero with the reason.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require(process.env.PORTCULLIS_PLAYWRIGHT);

const [file, outDir, expectFile] = process.argv.slice(2);
const want = JSON.parse(fs.readFileSync(expectFile, "utf8"));
const url = "file://" + path.resolve(file);
const result = { bytes: fs.statSync(file).size };

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function open(browser, options) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, ...options });
  const page = await context.newPage();
  const seen = { requests: [], dialogs: [], errors: [] };
  page.on("request", (r) => { if (r.url() !== url) seen.requests.push(r.url()); });
  page.on("dialog", (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") seen.errors.push(m.text()); });
  // Installed before any page script (and not subject to the page's CSP): records violations,
  // which would mean something tried to run or load.
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "load", timeout: 120000 });
  const loadMs = Date.now() - t0;
  return { context, page, seen, loadMs };
}

// Visible finding rows, as {severity, status, cloud, account, check, resource} objects.
function visibleRows(page) {
  return page.$$eval("#findings-table tbody tr.finding:not([hidden])", (rows) =>
    rows.map((r) => ({ ...r.dataset, text: r.textContent })));
}

// Change a filter control and wait for the table to settle; returns the elapsed milliseconds
// from the change to the next painted frame.
async function setFilter(page, name, value) {
  return page.evaluate(async ([name, value]) => {
    const el = document.querySelector(`#filters [name="${name}"]`);
    const t0 = performance.now();
    if (el.type === "checkbox") el.checked = value; else el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    if (name === "q") await new Promise((r) => setTimeout(r, 130)); // the text box waits for typing to pause
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0 - (name === "q" ? 130 : 0);
  }, [name, value]);
}

async function hostileChecks(page, seen, scripting) {
  // Nothing from the data became markup: our two scripts (code and data), no image, no handler attribute,
  // no link that is not https or an in-page anchor, no global set by an injected script.
  const dom = await page.evaluate(() => {
    const handlers = [];
    for (const el of document.querySelectorAll("*")) {
      for (const a of el.attributes) if (a.name.startsWith("on")) handlers.push(el.tagName + " " + a.name);
    }
    const links = Array.from(document.querySelectorAll("a[href]")).map((a) => a.getAttribute("href"))
      .filter((h) => !h.startsWith("#") && !h.startsWith("https://"));
    return {
      scripts: document.querySelectorAll("script").length,
      dataScripts: document.querySelectorAll('script[type="application/json"]').length,
      dataParses: (() => { try { JSON.parse(document.getElementById("report-data").textContent); return true; } catch (e) { return false; } })(),
      images: document.querySelectorAll("img, iframe, object, embed, svg image, foreignObject").length,
      handlers, links, pwned: typeof window.__pwned !== "undefined",
      violations: window.__violations || [],
      text: document.body.innerText,
    };
  });
  check(seen.dialogs.length === 0, "a dialog opened: " + JSON.stringify(seen.dialogs));
  // Ours and its data, nothing else; the data is still whole JSON (nothing broke out of it).
  check(dom.scripts === 2 && dom.dataScripts === 1, "scripts in the page: " + dom.scripts);
  check(dom.dataParses, "the page's data is no longer valid JSON");
  check(dom.images === 0, "injected media elements: " + dom.images);
  check(dom.handlers.length === 0, "event-handler attributes: " + JSON.stringify(dom.handlers));
  check(dom.links.length === 0, "links that are not https or anchors: " + JSON.stringify(dom.links));
  check(!dom.pwned, "an injected script ran");
  check(dom.violations.length === 0, "CSP violations (something tried to run or load): " + JSON.stringify(dom.violations));
  for (const s of want.visible_text || []) check(dom.text.includes(s), "hostile text not shown as text: " + s);
  for (const s of want.absent_text || []) check(!dom.text.includes(s), "raw control character reached the page: " + JSON.stringify(s));
  // Filtering by the hostile text works like any other and still runs nothing.
  if (want.search && scripting) {
    await setFilter(page, "q", want.search);
    const rows = await visibleRows(page);
    check(rows.length > 0, "the search for hostile text found nothing");
    await setFilter(page, "q", "");
  }
  check(seen.dialogs.length === 0, "a dialog opened after filtering");
  result.hostile = { scripts: dom.scripts, handlers: dom.handlers.length, violations: dom.violations.length };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.PORTCULLIS_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const { page, seen, loadMs, context } = await open(browser, {});
    result.load_ms = loadMs;
    // The script pages through every finding: `total` in all, `page` rows at a time.
    const total = Number(await page.$eval("#shown", (o) => o.dataset.total));
    const pageSize = Number(await page.$eval("#findings-table", (t) => t.dataset.page));
    check(total === want.findings, `the table holds ${total} findings, the scan has ${want.findings}`);
    const rendered = await page.$$eval("#findings-table tbody tr.finding", (r) => r.length);
    check(rendered === Math.min(total, pageSize), `rows on the first page: ${rendered}`);
    result.rows = total;
    result.page = pageSize;
    const formShown = await page.$eval("#filters", (f) => !f.hidden);
    check(formShown, "the filter form stayed hidden with JavaScript on");
    for (const s of want.contains || []) {
      check(await page.evaluate((s) => document.body.textContent.includes(s), s), "the page does not show: " + s);
    }

    if (want.screenshot) await page.screenshot({ path: path.join(outDir, want.screenshot) });

    // Filters: each narrows the rows to exactly what it names.
    result.filter_ms = {};
    for (const [name, value, count] of want.filters || []) {
      result.filter_ms[`${name}=${value}`] = Math.round(await setFilter(page, name, value));
      const rows = await visibleRows(page);
      const matching = Number(await page.$eval("#shown", (o) => o.dataset.matching));
      if (count !== null) check(matching === count, `${name}=${value}: ${matching} rows match, expected ${count}`);
      check(rows.length === Math.min(matching, pageSize), `${name}=${value}: ${rows.length} rows shown of ${matching} matching`);
      const key = { severity: "severity", status: "status", cloud: "cloud", account: "account", category: "category", check: "check" }[name];
      if (key && value) check(rows.every((r) => r[key] === value), `${name}=${value} shows other rows`);
      if (name === "q" && value) check(rows.every((r) => r.text.toLowerCase().includes(value.toLowerCase())), `text ${value} shows rows without it`);
      const shown = await page.$eval("#shown", (o) => o.textContent);
      check(shown.startsWith(`showing ${rows.length} of ${matching}`), "the count line says " + shown);
    }
    if (want.filters) {
      await page.click("#filters button[type=reset]");
      await page.waitForFunction((n) => document.getElementById("shown").dataset.matching === String(n), total);
      if (total > pageSize) {
        // Paging: "Show more" adds rows, and stops showing once everything is there.
        await page.click("#show-more");
        const after = await page.$$eval("#findings-table tbody tr.finding", (r) => r.length);
        check(after > pageSize, `after "Show more" ${after} rows`);
      }
    }

    if (want.group) {
      const [q, resource, count] = want.group;
      await setFilter(page, "q", q);
      result.filter_ms.group = Math.round(await setFilter(page, "group", true));
      const heads = await page.$$eval("#findings-table tbody tr.group th", (h) => h.map((x) => x.textContent));
      check(heads.some((h) => h.startsWith(`${resource}: ${count} findings`)), "group headers: " + JSON.stringify(heads.slice(0, 10)));
      await setFilter(page, "group", false);
      await setFilter(page, "q", "");
      check((await page.$$("#findings-table tbody tr.group")).length === 0, "group rows stayed after ungrouping");
    }

    if (want.sort) {
      const t0 = Date.now();
      await page.click('#findings-table th[data-sort="account"]');
      await page.click('#findings-table th[data-sort="sev"]');
      result.sort_ms = Date.now() - t0;
      const sev = await page.$$eval("#findings-table tbody tr.finding", (r) => r.slice(0, 2000).map((x) => Number(x.dataset.sev)));
      check(sev.every((v, i) => i === 0 || sev[i - 1] >= v), "sorting by severity left rows out of order");
    }

    if (want.hostile) await hostileChecks(page, seen, true);

    if (want.screenshot) {
      // The table, filtered to the failing findings and grouped by resource.
      await setFilter(page, "status", "fail");
      await setFilter(page, "group", true);
      await page.evaluate(() => document.getElementById("findings").scrollIntoView());
      await page.screenshot({ path: path.join(outDir, "filtered-" + want.screenshot) });
      await setFilter(page, "group", false);
      await setFilter(page, "status", "");
    }

    if (want.print) {
      await page.emulateMedia({ media: "print" });
      const hidden = await page.$eval("#filters", (f) => getComputedStyle(f).display === "none");
      check(hidden, "the filter form prints");
      await page.pdf({ path: path.join(outDir, want.print), format: "A4" });
      await page.emulateMedia({ media: "screen" });
    }

    check(seen.requests.length === 0, "requests left the page: " + JSON.stringify(seen.requests.slice(0, 5)));
    check(seen.dialogs.length === 0, "dialogs: " + JSON.stringify(seen.dialogs));
    check(seen.errors.length === 0, "script errors: " + JSON.stringify(seen.errors));
    result.requests = seen.requests.length;
    await context.close();

    if (want.no_javascript) {
      // With JavaScript off every finding is still there to read, and the controls that need it stay hidden.
      const { page, seen, context } = await open(browser, { javaScriptEnabled: false });
      const visible = await page.$$eval("#findings-table tbody tr.finding", (r) => r.filter((x) => x.offsetParent !== null).length);
      check(visible === want.static_rows, `without JavaScript ${visible} rows show, expected ${want.static_rows}`);
      if (want.static_rows < want.findings) {
        check(await page.$eval("#static-note", (n) => n.offsetParent !== null), "without JavaScript the page does not say findings were left out");
      }
      check(await page.$eval("#filters", (f) => f.hidden), "the filter form shows without JavaScript");
      for (const s of want.contains || []) {
        check(await page.evaluate((s) => document.body.textContent.includes(s), s), "without JavaScript the page does not show: " + s);
      }
      if (want.hostile) await hostileChecks(page, seen, false);
      check(seen.requests.length === 0, "requests without JavaScript: " + JSON.stringify(seen.requests.slice(0, 5)));
      if (want.screenshot) await page.screenshot({ path: path.join(outDir, "nojs-" + want.screenshot) });
      await context.close();
    }
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
