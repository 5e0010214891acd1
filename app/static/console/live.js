/* Live updates for console pages, over server-sent events (no polling, no library).
 *
 * The server pushes charger events; this script re-fetches only the server-rendered fragment an
 * event touched:
 *   - dashboard rows: <table data-rows-url="..."> rows <tr data-charger="ID">, the changed ones
 *     fetched together (?id=A&id=B), the whole body when the stream (re)opens;
 *   - any element with data-refresh="URL" and data-refresh-on="kind kind ..." (or "*"),
 *     at most once per data-refresh-delay milliseconds (400 by default); with
 *     data-refresh-mode="text" only the changed texts of elements with an id are replaced;
 *   - a message log tail: <tbody id="log-tail"> gets "log" events while #tail is checked;
 *   - a "resync" event (events may have been missed) fetches every fragment, as on (re)open.
 * Also: <form data-confirm="question"> asks before submitting.
 */
(function () {
  "use strict";
  // Forms that destroy something ask first (no inline handlers: the CSP forbids them).
  document.addEventListener("submit", function (e) {
    var question = e.target.dataset && e.target.dataset.confirm;
    if (question && !window.confirm(question)) e.preventDefault();
  });

  var url = document.body.dataset.liveUrl;
  if (!url || !window.EventSource) return;
  var stateEl = document.getElementById("live-state");
  var timers = {};

  function later(key, ms, fn) {
    // Several events in a burst (a MeterValues per connector) cost one fetch.
    if (timers[key]) return;
    timers[key] = setTimeout(function () { delete timers[key]; fn(); }, ms);
  }

  function say(text) {
    if (stateEl) { stateEl.hidden = false; stateEl.textContent = text; }
  }

  function fetchHtml(src) {
    return fetch(src, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.status === 401) say("You are logged out: reload the page to log in again.");
        return r.ok ? r.text() : null;
      })
      .catch(function () { return null; });
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

  var dirty = {};
  var BATCH = 50;

  function refreshRows(table) {
    // Changed chargers are fetched together: with thousands of chargers metering, a page
    // asks for one fragment per half second, not one per event.
    var ids = Object.keys(dirty).slice(0, BATCH);
    if (!ids.length) return;
    ids.forEach(function (id) { delete dirty[id]; });
    var query = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
    var page = table.dataset.pageQuery;
    fetchHtml(table.dataset.rowsUrl + "?" + query + (page ? "&" + page : "")).then(function (html) {
      if (html === null) return;
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var returned = {};
      Array.prototype.slice.call(holder.rows).forEach(function (row) {
        returned[row.dataset.charger] = true;
        var old = table.querySelector('tr[data-charger="' + CSS.escape(row.dataset.charger) + '"]');
        if (old) keepFocus(old, function () { old.replaceWith(row); });
        // New chargers join a filtered list they match, or the last page of the whole list.
        else if (table.dataset.appendNew === "1") table.tBodies[0].appendChild(row);
      });
      if (table.dataset.filtered === "1") {
        // A charger that no longer matches the filter leaves the list.
        ids.forEach(function (id) {
          var gone = !returned[id] && table.querySelector('tr[data-charger="' + CSS.escape(id) + '"]');
          if (gone) gone.remove();
        });
      }
      var none = document.getElementById("no-chargers");
      if (none && holder.rows.length) none.hidden = true;
      if (Object.keys(dirty).length) later("rows", 500, function () { refreshRows(table); });
    });
  }

  function refreshBlock(el) {
    fetchHtml(el.dataset.refresh).then(function (html) {
      if (html === null) return;
      if (el.dataset.refreshMode === "text") {
        // Only the values that changed are written, so a screen reader announces just those.
        var holder = document.createElement("div");
        holder.innerHTML = html;
        holder.querySelectorAll("[id]").forEach(function (fresh) {
          var old = document.getElementById(fresh.id);
          if (old && old.textContent !== fresh.textContent) old.textContent = fresh.textContent;
        });
      } else {
        keepFocus(el, function () { el.innerHTML = html; });
      }
    });
  }

  function onEvent(ev) {
    var table = document.querySelector("table[data-rows-url]");
    if (table) {
      dirty[ev.charger] = true;
      later("rows", 500, function () { refreshRows(table); });
    }
    document.querySelectorAll("[data-refresh]").forEach(function (el, i) {
      var kinds = (el.dataset.refreshOn || "*").split(/\s+/);
      if (kinds.indexOf("*") >= 0 || kinds.indexOf(ev.kind) >= 0) {
        var delay = parseInt(el.dataset.refreshDelay || "400", 10);
        later("block:" + (el.id || i), delay, function () { refreshBlock(el); });
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
      var page = table.dataset.pageQuery;
      fetchHtml(table.dataset.rowsUrl + (page ? "?" + page : "")).then(function (html) {
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
    say("Live updates on");
    document.body.dataset.live = "on";
    catchUp();
  };
  source.onerror = function () {
    // CLOSED: the server refused the stream (logged out); the browser will not retry.
    say(source.readyState === EventSource.CLOSED
      ? "Live updates stopped: reload the page."
      : "Live updates interrupted, reconnecting…");
    document.body.dataset.live = "off";
  };
  source.onmessage = function (m) { onEvent(JSON.parse(m.data)); };
  source.addEventListener("log", function (m) { onLog(JSON.parse(m.data)); });
  // The server may have missed events (its Redis was away): fetch every fragment once.
  source.addEventListener("resync", catchUp);
  window.addEventListener("pagehide", function () { source.close(); });
})();
