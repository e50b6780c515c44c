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

  // On a phone the filters would push the results below the fold: fold them while none is on
  // (without JavaScript they stay open, and the summary still opens and closes them).
  function foldFiltersOnNarrowScreens() {
    var box = document.getElementById("filters-box");
    if (!box || !window.matchMedia) return;
    if (window.matchMedia("(max-width: 48rem)").matches && !box.hasAttribute("data-active") && document.querySelector(".hits, .empty, .welcome")) {
      box.open = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    foldFiltersOnNarrowScreens();
    var form = document.getElementById("search-form");
    if (form) tidyOnSubmit(form);
    var speaker = document.getElementById("speaker");
    if (speaker) speakerAutocomplete(speaker);
    focusResults();
    document.documentElement.classList.add("js");
  });
})();
