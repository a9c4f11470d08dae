// ritlink tablet: no refusal is silent, no typing is lost. Plain JS beside htmx 2 (vendored).
(function () {
  "use strict";
  var PREFIX = "ritlink-concept:";
  var pending = {};  // concept key -> draft taken out of storage while its save is on its way

  // htmx 2 swaps 2xx only by default; a refused save (403 sign-in, 409, 422, 507, 5xx) answers
  // with a page that says why, so swap those too (htmx's documented responseHandling config).
  function configure() {
    if (!window.htmx) return;
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
      { code: "...", swap: false }
    ];
    htmx.config.timeout = 15000;
    // The settle step only animates classes; the crew waits for the saved entry, not for it.
    htmx.config.defaultSettleDelay = 0;
    // No page snapshots in localStorage: they would keep patient data on the tablet after the
    // shift, and writing one on every save costs time. Back and forward load the page anew.
    htmx.config.historyCacheSize = 0;
    htmx.config.refreshOnHistoryMiss = true;
  }

  function alertRegion() {
    var region = document.getElementById("meldingen");
    if (!region) {
      region = document.createElement("div");
      region.id = "meldingen";
      region.setAttribute("role", "alert");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(region, main.firstChild);
    }
    return region;
  }

  function say(text) {
    var region = alertRegion();
    region.innerHTML = "";
    var p = document.createElement("p");
    p.className = "fout";
    p.textContent = text;
    region.appendChild(p);
    region.scrollIntoView({ block: "center" });
  }

  // -- drafts: what is typed in a form survives a tab switch, a reload and a refusal ----------
  function conceptFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "hidden" && el.type !== "password" && el.type !== "submit" &&
        !el.hasAttribute("data-geen-concept") && el.tagName !== "BUTTON";
    });
  }

  function readForm(form) {
    var draft = {};
    conceptFields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) (draft[el.name] = draft[el.name] || []).push(el.value);
      } else if (el.value !== "") {
        draft[el.name] = [el.value];
      }
    });
    return draft;
  }

  function writeForm(form, draft) {
    conceptFields(form).forEach(function (el) {
      var values = draft[el.name];
      if (!values) return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = values.indexOf(el.value) >= 0;
      else el.value = values[0];
    });
  }

  function store(form) {
    var key = form.getAttribute("data-concept");
    var draft = readForm(form);
    if (Object.keys(draft).length) sessionStorage.setItem(PREFIX + key, JSON.stringify(draft));
    else sessionStorage.removeItem(PREFIX + key);
  }

  function restoreAll(root) {
    (root || document).querySelectorAll("form[data-concept]").forEach(function (form) {
      var saved = sessionStorage.getItem(PREFIX + form.getAttribute("data-concept"));
      if (saved) {
        try { writeForm(form, JSON.parse(saved)); } catch (e) { sessionStorage.removeItem(PREFIX + form.getAttribute("data-concept")); }
      }
    });
  }

  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-concept")) store(form);
  });
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-concept")) store(form);
    if (e.target.name === "drug" && e.target.tagName === "SELECT") fillDrug(e.target);
  });

  // The save is on its way: take its draft out; a refusal puts it back, success drops it.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.tagName === "FORM" && form.hasAttribute("data-concept")) {
      var key = PREFIX + form.getAttribute("data-concept");
      pending[key] = readForm(form);
      sessionStorage.removeItem(key);
      e.detail.requestConfig && (e.detail.requestConfig.conceptKey = key);
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var key = e.detail.requestConfig && e.detail.requestConfig.conceptKey;
    if (!key || !(key in pending)) return;
    var draft = pending[key];
    delete pending[key];
    if (!e.detail.successful && Object.keys(draft).length) {
      sessionStorage.setItem(key, JSON.stringify(draft));
      restoreAll(document);
      markRefusal();
    }
  });

  // The service did not answer at all: say so where the crew looks; nothing was saved.
  function unreachable(e) {
    var key = e.detail.requestConfig && e.detail.requestConfig.conceptKey;
    if (key && pending[key] && Object.keys(pending[key]).length) {
      sessionStorage.setItem(key, JSON.stringify(pending[key]));
      delete pending[key];
    }
    say("Tablet-service reageert niet — uw invoer is NIET opgeslagen. Probeer opnieuw; blijft dit zo, noteer op papier.");
  }
  document.addEventListener("htmx:sendError", unreachable);
  document.addEventListener("htmx:timeout", unreachable);

  // After a refusal: bring the named field (or the form's message) into view and focus it.
  function markRefusal() {
    var invalid = document.querySelector("[aria-invalid=true]") || document.querySelector(".formfout");
    if (invalid) {
      invalid.scrollIntoView({ block: "center" });
      if (invalid.focus) invalid.focus({ preventScroll: true });
    }
  }

  // The medication form: a drug fills its standard dose, unit and first route (all editable).
  function fillDrug(select) {
    var option = select.options[select.selectedIndex];
    var form = select.form;
    if (!option || !form) return;
    var dose = form.querySelector("input[name=dose]");
    var unit = form.querySelector(".eenheid-bij-dosis");
    var route = form.querySelector("select[name=route]");
    if (dose) dose.dataset.voorbeeld = option.dataset.dosis || "";
    if (dose && option.dataset.dosis && (dose.value === "" || dose.dataset.auto === "1")) {
      dose.value = option.dataset.dosis;
      dose.dataset.auto = "1";
    }
    if (unit) unit.textContent = option.dataset.eenheid ? "(" + option.dataset.eenheid + ")" : "";
    if (route && option.dataset.weg) route.value = option.dataset.weg;
    if (form.hasAttribute("data-concept")) store(form);
  }

  // Day / night / automatic: applied at once (no reload), remembered in a cookie for a year.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("form[data-thema-keuze] button");
    if (!button) return;
    e.preventDefault();
    e.stopPropagation();
    var choice = button.value;
    document.cookie = "ritlink_thema=" + choice + "; path=/; max-age=31536000; samesite=strict";
    var theme = choice === "auto" ? (document.body.dataset.autoThema || "dag") : choice;
    document.body.classList.remove("thema-dag", "thema-nacht");
    document.body.classList.add("thema-" + theme);
    document.querySelectorAll("form[data-thema-keuze] button").forEach(function (b) {
      b.classList.toggle("gekozen", b.value === choice);
      b.setAttribute("aria-pressed", b.value === choice ? "true" : "false");
    });
  }, true);

  document.addEventListener("htmx:load", function (e) { restoreAll(e.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () {
    configure();
    restoreAll(document);
    markRefusal();
  });
  if (window.htmx) configure();
})();
