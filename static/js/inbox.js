// The inbox list: keyboard shortcuts (j/k move, o open, x select, a assign to me, t tag,
// e resolve, / search) and the bulk bar's selection count. Plain script, no build step.
(function () {
  "use strict";
  var table = document.getElementById("inbox");
  var bulk = document.getElementById("bulk");

  // On a phone the filters other than the search fold away (unless one is in use), so the
  // items are on the first screen; the toggle brings them back.
  var filters = document.getElementById("inbox-filters");
  var toggle = document.getElementById("filters-toggle");
  if (filters && toggle && window.matchMedia("(max-width: 640px)").matches) {
    var inUse = Array.prototype.some.call(filters.querySelectorAll(".filter:not(.search) select"),
      function (select) { return select.value !== ""; });
    filters.classList.toggle("folded", !inUse);
    toggle.setAttribute("aria-expanded", String(inUse));
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      toggle.setAttribute("aria-expanded", String(!filters.classList.toggle("folded")));
    });
  }
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-item]"));
  var current = -1;

  function boxes() { return Array.prototype.slice.call(table.querySelectorAll("input[name=items]")); }
  function checked() { return boxes().filter(function (b) { return b.checked; }); }

  function updateCount() {
    var label = document.getElementById("bulk-count");
    if (!label) return;
    var n = checked().length;
    if (n) label.textContent = label.dataset.template.replace("%(n)s", n);
    else if (label.dataset.empty) label.textContent = label.dataset.empty;
  }

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    rows[current].setAttribute("aria-current", "true");
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function currentBox() {
    return current >= 0 ? rows[current].querySelector("input[name=items]") : null;
  }

  // An action on the checked items, or on the current row when none is checked.
  function act(action, prepare) {
    if (!bulk) return;
    if (!checked().length) {
      var box = currentBox();
      if (!box) return;
      box.checked = true;
    }
    if (prepare && prepare() === false) return;
    var button = document.querySelector("button[name=action][value=" + action + "]");
    if (button) bulk.requestSubmit(button);
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest && target.closest("input, select, textarea, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "o": case "Enter": if (current >= 0) window.location = rows[current].dataset.url; break;
      case "x": var box = currentBox(); if (box) { box.checked = !box.checked; updateCount(); } break;
      case "a": act("assign", function () { document.getElementById("id_assignee_bulk").value = "me"; }); break;
      case "e": act("resolve"); break;
      case "t":
        if (!checked().length && currentBox()) { currentBox().checked = true; updateCount(); }
        var tag = document.getElementById("id_tag_bulk");
        if (tag) tag.focus();
        break;
      case "/": var search = document.getElementById("id_q"); if (search) search.focus(); break;
      default: return;
    }
    event.preventDefault();
  });

  table.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      boxes().forEach(function (b) { b.checked = event.target.checked; });
    }
    updateCount();
  });
  var label = document.getElementById("bulk-count");
  if (label) label.dataset.empty = label.textContent;
  // A tag picked from the bar (after "t") is applied at once with Enter, like the button.
  var tagSelect = document.getElementById("id_tag_bulk");
  if (tagSelect) tagSelect.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); act("tag"); }
  });
})();
