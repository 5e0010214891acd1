/* Live updates for console pages, over server-sent events (no polling, no library).
 *
 * The server pushes charger events; this script re-fetches only the server-rendered fragment an
 * event touched:
 *   - dashboard rows: <table data-row-url="...__ID__..."> rows <tr data-charger="ID">, and the
 *     whole body from data-rows-url when the stream (re)opens;
 *   - any element with data-refresh="URL" and data-refresh-on="kind kind ..." (or "*");
 *   - a message log tail: <tbody id="log-tail"> gets "log" events while #tail is checked.
 */
(function () {
  "use strict";
  var url = document.body.dataset.liveUrl;
  if (!url || !window.EventSource) return;
  var stateEl = document.getElementById("live-state");
  var timers = {};

  function later(key, ms, fn) {
    // Several events in a burst (a MeterValues per connector) cost one fetch.
    if (timers[key]) return;
    timers[key] = setTimeout(function () { delete timers[key]; fn(); }, ms);
  }

  function fetchHtml(src) {
    return fetch(src, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; });
  }

  function keepFocus(container, swap) {
    // Replacing markup must not throw a keyboard user's focus back to the top of the page.
    var active = document.activeElement;
    var href = active && container.contains(active) && active.getAttribute("href");
    swap();
    if (href) {
      var again = document.querySelector('a[href="' + CSS.escape(href) + '"]');
      if (again) again.focus();
    }
  }

  function refreshRow(table, identity) {
    var src = table.dataset.rowUrl.replace("__ID__", encodeURIComponent(identity));
    fetchHtml(src).then(function (html) {
      if (html === null) return;
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.querySelector("tr");
      var old = table.querySelector('tr[data-charger="' + CSS.escape(identity) + '"]');
      if (old) keepFocus(old, function () { old.replaceWith(row); });
      else table.tBodies[0].appendChild(row);
      var none = document.getElementById("no-chargers");
      if (none) none.hidden = true;
    });
  }

  function refreshBlock(el) {
    fetchHtml(el.dataset.refresh).then(function (html) {
      if (html !== null) keepFocus(el, function () { el.innerHTML = html; });
    });
  }

  function onEvent(ev) {
    var table = document.querySelector("table[data-row-url]");
    if (table) later("row:" + ev.charger, 250, function () { refreshRow(table, ev.charger); });
    document.querySelectorAll("[data-refresh]").forEach(function (el, i) {
      var kinds = (el.dataset.refreshOn || "*").split(/\s+/);
      if (kinds.indexOf("*") >= 0 || kinds.indexOf(ev.kind) >= 0) {
        later("block:" + (el.id || i), 400, function () { refreshBlock(el); });
      }
    });
  }

  function onLog(entry) {
    var tbody = document.getElementById("log-tail");
    var toggle = document.getElementById("tail");
    if (!tbody || (toggle && !toggle.checked)) return;
    var dir = document.getElementById("filter-direction");
    var act = document.getElementById("filter-action");
    if (dir && dir.value && dir.value !== entry.direction) return;
    if (act && act.value && act.value !== entry.action) return;
    var tr = document.createElement("tr");
    [entry.time, entry.direction === "in" ? "← in" : "→ out", entry.action || "", entry.frame]
      .forEach(function (text, i) {
        var cell = document.createElement("td");
        if (i === 3) { var code = document.createElement("code"); code.textContent = text; cell.appendChild(code); }
        else cell.textContent = text;
        tr.appendChild(cell);
      });
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > 300) tbody.deleteRow(tbody.rows.length - 1);
  }

  function catchUp() {
    // Whatever happened between rendering the page (or a dropped stream) and this subscription
    // sent no event we could see: fetch every live fragment once.
    var table = document.querySelector("table[data-rows-url]");
    if (table) {
      fetchHtml(table.dataset.rowsUrl).then(function (html) {
        if (html === null) return;
        keepFocus(table.tBodies[0], function () { table.tBodies[0].innerHTML = html; });
        var none = document.getElementById("no-chargers");
        if (none && html.trim()) none.hidden = true;
      });
    }
    document.querySelectorAll("[data-refresh]").forEach(refreshBlock);
  }

  var source = new EventSource(url);
  source.onopen = function () {
    if (stateEl) { stateEl.hidden = false; stateEl.textContent = "Live updates on"; }
    document.body.dataset.live = "on";
    catchUp();
  };
  source.onerror = function () {
    if (stateEl) { stateEl.hidden = false; stateEl.textContent = "Live updates interrupted, reconnecting…"; }
    document.body.dataset.live = "off";
  };
  source.onmessage = function (m) { onEvent(JSON.parse(m.data)); };
  source.addEventListener("log", function (m) { onLog(JSON.parse(m.data)); });
  window.addEventListener("pagehide", function () { source.close(); });
})();
