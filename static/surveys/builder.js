// The survey builder (templates/surveys/survey_detail.html, surveys/views/builder.py): the
// fields of each question kind, the values a rule may compare with, reordering by drag and drop
// or keyboard, and the live preview. No inline script (the policy forbids it): everything is
// wired by data-attributes from the document, so the fragments htmx swaps in work at once.
(function () {
  "use strict";

  var MAIN = "builder-main";

  function main() { return document.getElementById(MAIN); }

  function announce(text) {
    var live = document.getElementById("builder-announce");
    if (!live) { return; }
    // Emptied first, so the same words said twice are still read out.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function t(key, fallback) {
    var el = main();
    return (el && el.dataset && el.dataset[key]) || fallback;
  }

  // --- What each kind of question offers -----------------------------------------------------
  function showKindFields(editor) {
    var kind = editor.querySelector("select[name=kind]");
    if (!kind) { return; }
    editor.querySelectorAll("[data-kinds]").forEach(function (el) {
      var kinds = el.dataset.kinds.split(" ").filter(Boolean);
      el.hidden = kinds.length > 0 && kinds.indexOf(kind.value) === -1;
    });
  }

  // --- Rules: the hidden field's name only for "hidden", values offered per field ------------
  function fieldOf(scope, suffix) {
    return scope.querySelector("[name$='_" + suffix + "']");
  }

  function showRuleFields(scope) {
    var field = fieldOf(scope, "field"), op = fieldOf(scope, "op");
    var hidden = fieldOf(scope, "hidden"), value = fieldOf(scope, "value");
    if (!field || !value) { return; }
    var chosen = field.value;
    if (hidden) { hidden.closest(".field").hidden = chosen !== "hidden"; }
    var valueless = op && (op.value === "answered" || op.value === "not_answered");
    value.closest(".field").hidden = !chosen || valueless;
    if (op) { op.closest(".field").hidden = !chosen; }
    var list = document.getElementById("values-" + chosen);
    if (list) { value.setAttribute("list", list.id); } else { value.removeAttribute("list"); }
  }

  function wire(root) {
    root.querySelectorAll("[data-editor]").forEach(showKindFields);
    root.querySelectorAll("[data-rule]").forEach(showRuleFields);
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    var editor = el.closest && el.closest("[data-editor]");
    if (editor && el.name === "kind") { showKindFields(editor); }
    var rule = el.closest && el.closest("[data-rule]");
    if (rule) { showRuleFields(rule); }
  });

  // --- Answers from the server ---------------------------------------------------------------
  // A refused change answers 400 (409: someone saved first) with the builder and the reasons;
  // htmx swaps only 2xx answers unless told, and the manager must see why nothing changed.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && event.detail.target && event.detail.target.id === MAIN) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  var refocus = null; // the question whose handle gets the focus back after a reorder

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== MAIN) { return; }
    var root = main();
    wire(root);
    var problems = document.getElementById("builder-problems");
    var editor = root.querySelector("[data-editor]");
    if (refocus) {
      var handle = root.querySelector("[data-question-id='" + refocus + "'] [data-handle]");
      refocus = null;
      if (handle) { handle.focus(); }
      if (problems) { announce(problems.innerText); }
    } else if (editor) {
      var first = editor.querySelector(".has-error input, .has-error textarea, .has-error select") ||
        editor.querySelector("input[type=text], textarea");
      editor.scrollIntoView({block: "nearest"});
      if (first) { first.focus(); }
    } else if (problems) {
      problems.scrollIntoView({block: "nearest"});
    }
  });

  // --- Reordering ----------------------------------------------------------------------------
  function cards() {
    return Array.prototype.slice.call(main().querySelectorAll(".q-list > .q-card[data-question-id]"));
  }

  function orderNow() {
    return cards().map(function (card) {
      return card.dataset.questionId + ":" + card.closest(".q-list").dataset.page;
    }).join(",");
  }

  function saveOrder(card) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    refocus = card.dataset.questionId;
    window.htmx.ajax("POST", main().dataset.orderUrl, {
      target: "#" + MAIN, swap: "outerHTML", values: {order: orderNow()},
      headers: token ? {"X-CSRFToken": token.value} : {}
    });
  }

  function say(card) {
    var list = card.closest(".q-list");
    var siblings = Array.prototype.slice.call(list.querySelectorAll(":scope > .q-card[data-question-id]"));
    var text = card.querySelector(".q-text");
    announce(t("movedText", "Moved") + ": " + (text ? text.textContent.trim() : "") + " — " +
      t("positionText", "position") + " " + (siblings.indexOf(card) + 1) + " / " + siblings.length + ", " +
      t("pageText", "page") + " " + list.dataset.page);
  }

  function dropEmptyNote(list) {
    var empty = list.querySelector(":scope > .q-empty");
    if (empty) { empty.remove(); }
  }

  // One step up or down; past the top or bottom of a page the question moves to the next page.
  function step(card, direction) {
    var list = card.closest(".q-list");
    var lists = Array.prototype.slice.call(main().querySelectorAll(".q-list"));
    var sibling = direction < 0 ? card.previousElementSibling : card.nextElementSibling;
    while (sibling && !sibling.matches("[data-question-id]")) {
      sibling = direction < 0 ? sibling.previousElementSibling : sibling.nextElementSibling;
    }
    if (sibling) {
      if (direction < 0) { list.insertBefore(card, sibling); } else { list.insertBefore(card, sibling.nextSibling); }
    } else {
      var other = lists[lists.indexOf(list) + direction];
      if (!other) { announce(t("edgeText", "It is already there.")); return false; }
      dropEmptyNote(other);
      if (direction < 0) { other.appendChild(card); } else { other.insertBefore(card, other.firstChild); }
    }
    say(card);
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-handle]");
    if (!handle || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) { return; }
    event.preventDefault();
    var card = handle.closest(".q-card");
    if (step(card, event.key === "ArrowUp" ? -1 : 1)) {
      handle.focus();
      saveOrder(card);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move]");
    if (!button) { return; }
    var card = button.closest(".q-card");
    if (step(card, button.dataset.move === "up" ? -1 : 1)) { saveOrder(card); }
  });

  var dragging = null, before = "";

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".q-card[draggable=true]");
    if (!card) { return; }
    dragging = card;
    before = orderNow();
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.questionId);
  });

  document.addEventListener("dragover", function (event) {
    var list = dragging && event.target.closest && event.target.closest(".q-list");
    if (!list) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var after = Array.prototype.slice.call(list.querySelectorAll(":scope > .q-card[data-question-id]:not(.dragging)"))
      .find(function (card) {
        var box = card.getBoundingClientRect();
        return event.clientY < box.top + box.height / 2;
      });
    dropEmptyNote(list);
    if (after) { list.insertBefore(dragging, after); } else { list.appendChild(dragging); }
  });

  document.addEventListener("drop", function (event) {
    if (dragging) { event.preventDefault(); }
  });

  document.addEventListener("dragend", function () {
    if (!dragging) { return; }
    var card = dragging;
    dragging = null;
    card.classList.remove("dragging");
    if (orderNow() !== before) {
      say(card);
      saveOrder(card);
    }
  });

  // --- Preview -------------------------------------------------------------------------------
  function preview() { return document.getElementById("preview"); }

  function reloadPreview() {
    var frame = preview(), lang = document.querySelector("[data-preview-lang]");
    if (!frame || !frame.dataset.src) { return; }
    // A new query each time, so the browser never shows the page from before the change.
    frame.src = frame.dataset.src + "?lang=" + encodeURIComponent(lang ? lang.value : "") + "&v=" + Date.now();
  }

  document.addEventListener("builder-saved", reloadPreview);

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-preview-lang]")) { reloadPreview(); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-preview-device]");
    if (!button) { return; }
    var frame = document.querySelector("[data-preview-frame]");
    frame.classList.toggle("phone", button.dataset.previewDevice === "phone");
    frame.classList.toggle("desktop", button.dataset.previewDevice === "desktop");
    document.querySelectorAll("[data-preview-device]").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === button));
    });
  });

  wire(document);
  reloadPreview(); // the preview loads once the builder is ready, in the language chosen
})();
