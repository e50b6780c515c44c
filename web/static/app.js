// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  var DEFAULTS = { lang: "both", sort: "relevance", script: "orig" };

  // Keep URLs short: fields left empty or at their default are not submitted.
  function tidyOnSubmit(form) {
    form.addEventListener("submit", function () {
      var disabled = [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.disabled || el.name === "q") return;
        if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
        if (el.value === "" || DEFAULTS[el.name] === el.value) {
          el.disabled = true;
          disabled.push(el);
        }
      });
      // Re-enable after the navigation starts (and when the page comes back from the back/forward cache).
      window.setTimeout(function () { disabled.forEach(function (el) { el.disabled = false; }); }, 0);
    });
  }

  // Speaker autocomplete: fill the <datalist> from /api/speakers as the user types.
  function speakerAutocomplete(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || !window.fetch) return;
    var timer = null;
    var lastPrefix = null;
    var controller = null;
    function fill(speakers) {
      while (list.firstChild) list.removeChild(list.firstChild);
      var seen = {};
      speakers.forEach(function (sp) {
        [sp.names.zh, sp.names.en].forEach(function (name) {
          if (!name || seen[name]) return;
          seen[name] = true;
          var option = document.createElement("option");
          option.value = name;
          var other = name === sp.names.zh ? sp.names.en : sp.names.zh;
          option.label = (other ? name + " · " + other : name) + " (" + sp.count + ")";
          list.appendChild(option);
        });
      });
    }
    function lookUp() {
      var prefix = input.value.trim();
      if (prefix === lastPrefix) return;
      if (!prefix) { lastPrefix = prefix; fill([]); return; }
      lastPrefix = prefix;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var url = "/api/speakers?limit=10&prefix=" + encodeURIComponent(prefix);
      fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (r) { return r.ok ? r.json() : { speakers: [] }; })
        .then(function (body) { fill(body.speakers || []); input.setAttribute("data-suggested", String((body.speakers || []).length)); })
        .catch(function () { /* autocomplete is optional */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookUp, 150);
    });
    input.addEventListener("focus", lookUp);
  }

  // After following a link to the results (pagination, facets), move focus to them for keyboard users.
  function focusResults() {
    var results = document.getElementById("results");
    if (results && window.location.search && document.activeElement === document.body && /[?&](page|speaker|from|to)=/.test(window.location.search)) {
      results.focus({ preventScroll: true });
    }
  }

  // On a phone the results come first and the filters fold behind one button (without
  // JavaScript that button is a link down to them).
  function filtersToggle(link) {
    var layout = document.querySelector(".layout");
    var panel = document.getElementById("filters");
    if (!layout || !panel) return;
    link.setAttribute("role", "button");
    link.setAttribute("aria-expanded", "false");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var open = !layout.classList.contains("filters-open");
      layout.classList.toggle("filters-open", open);
      link.setAttribute("aria-expanded", String(open));
      if (open) panel.focus();
    });
  }

  // The speaker facet's filter box: narrows the list (the hidden "more" ones included) as one types.
  function facetFilter(input) {
    var box = document.getElementById(input.getAttribute("aria-controls"));
    if (!box) return;
    var more = box.querySelector("details.facet-more");
    var none = box.querySelector(".facet-none");
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(box.querySelectorAll("li[data-names]"), function (li) {
        var match = !wanted || li.getAttribute("data-names").indexOf(wanted) !== -1;
        li.hidden = !match;
        if (match) shown += 1;
      });
      if (more && wanted) more.open = true;
      if (none) none.hidden = shown > 0;
    });
  }

  // The timeline: a bar is a link to its period; dragging across bars chooses the range they cover.
  function timelineDrag(chart) {
    var form = document.getElementById("search-form");
    var from = document.getElementById("from");
    var to = document.getElementById("to");
    if (!form || !from || !to || !window.PointerEvent) return;
    var slots = Array.prototype.slice.call(chart.querySelectorAll("li[data-from]"));
    var start = null, end = null, dragged = false;
    function slotAt(event) {
      var el = document.elementFromPoint(event.clientX, event.clientY);
      var found = el && el.closest ? el.closest("li[data-from]") : null;
      return found && chart.contains(found) ? slots.indexOf(found) : -1;
    }
    function paint() {
      var low = Math.min(start, end), high = Math.max(start, end);
      slots.forEach(function (slot, n) { slot.classList.toggle("chosen", start !== null && n >= low && n <= high); });
    }
    chart.addEventListener("pointerdown", function (event) {
      var n = slotAt(event);
      if (n < 0) return;
      start = end = n;
      dragged = false;
      paint();
      event.preventDefault();
    });
    chart.addEventListener("pointermove", function (event) {
      if (start === null) return;
      var n = slotAt(event);
      if (n >= 0 && n !== end) { end = n; dragged = true; paint(); }
    });
    function finish() {
      if (start === null) return;
      var low = Math.min(start, end), high = Math.max(start, end);
      var done = dragged;
      start = end = null;
      if (!done) { paint(); return; }  // a plain click: the bar's own link
      from.value = slots[low].getAttribute("data-from");
      to.value = slots[high].getAttribute("data-to");
      chart.setAttribute("data-chosen", from.value + "/" + to.value);
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
    chart.addEventListener("pointerup", finish);
    chart.addEventListener("pointerleave", function () { if (start !== null) finish(); });
    chart.addEventListener("click", function (event) { if (chart.getAttribute("data-chosen")) event.preventDefault(); });
  }

  // Suggestions as one types in the search box (the ARIA 1.2 combobox pattern): arrows move,
  // Enter takes the highlighted one (or searches what was typed), Escape closes the list.
  function searchSuggestions(input) {
    var list = document.getElementById("q-suggestions");
    var form = document.getElementById("search-form");
    if (!list || !form || !window.fetch) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var items = [], active = -1, timer = null, controller = null, last = null;
    var KINDS = { term: "word", speaker: "speaker", title: "article" };
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(n) {
      active = n;
      Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", String(i === n)); });
      if (n >= 0) {
        input.setAttribute("aria-activedescendant", list.children[n].id);
        list.children[n].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function choose(item) {
      close();
      if (item.type === "title") { window.location.href = "/articles/" + encodeURIComponent(item.id); return; }
      if (item.type === "speaker") {
        var speaker = document.getElementById("speaker");
        var name = (item.names && (item.names.zh || item.names.en)) || item.text;
        if (speaker) speaker.value = name;
        input.value = "*";
      } else {
        input.value = item.text;
      }
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
    function show(found) {
      items = found;
      while (list.firstChild) list.removeChild(list.firstChild);
      found.forEach(function (item, n) {
        var li = document.createElement("li");
        li.id = "q-option-" + n;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "suggestion-" + item.type;
        var text = document.createElement("span");
        text.textContent = item.text;
        if (item.lang) text.lang = item.lang === "zh" ? "zh" : "en";
        li.appendChild(text);
        if (item.type === "speaker" && item.names && item.names.en && item.names.en !== item.text) {
          var en = document.createElement("span");
          en.lang = "en";
          en.textContent = item.names.en;
          li.appendChild(en);
        }
        var kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = KINDS[item.type] + (item.count ? " · " + item.count : "");
        li.appendChild(kind);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus in the box
        li.addEventListener("click", function () { choose(item); });
        list.appendChild(li);
      });
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }
    function lookUp() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (!q || q.length > 100) { show([]); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch("/api/suggest?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (body) { if (input.value.trim() === q) show(body.suggestions || []); })
        .catch(function () { /* suggestions are optional */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookUp, 120);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { last = null; lookUp(); return; }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(items[active]); }
        else close();
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 100); });
  }

  // "/" anywhere but in a text field puts the focus in the search box (as on many search sites).
  function slashFocuses(input) {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      event.preventDefault();
      input.focus();
      input.select();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-form");
    if (form) tidyOnSubmit(form);
    var q = document.getElementById("q");
    if (q) { slashFocuses(q); if (form) searchSuggestions(q); }
    var toggle = document.getElementById("filters-toggle");
    if (toggle) filtersToggle(toggle);
    var facet = document.getElementById("speaker-facet-filter");
    if (facet) facetFilter(facet);
    var chart = document.querySelector(".timeline-chart");
    if (chart) timelineDrag(chart);
    var speaker = document.getElementById("speaker");
    if (speaker) speakerAutocomplete(speaker);
    focusResults();
    document.documentElement.classList.add("js");
  });
})();
