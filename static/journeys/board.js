// The journey board's drag and drop. A dropped stage or touchpoint posts its new place to the
// same move view the arrow buttons use; the server saves it through the map services and
// answers with the re-rendered board, so the page never has to guess the result.
(function () {
  "use strict";
  var dragged = null; // {el, kind: "stage" | "touchpoint", url}

  function csrfHeaders() {
    // base.html puts the CSRF token in <body hx-headers>; htmx.ajax without a source element
    // does not read it, so it is passed on explicitly.
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }

  function post(url, values) {
    htmx.ajax("POST", url, {target: "#board-fragment", swap: "outerHTML", values: values, headers: csrfHeaders()});
  }

  // How many of `others` lie before the pointer: the position in the list without the dragged item,
  // which is what the services' move functions expect.
  function slot(others, isBefore) {
    return others.filter(function (el) { return isBefore(el.getBoundingClientRect()); }).length;
  }

  function target(event) {
    if (!dragged || !event.target.closest) { return null; }
    return dragged.kind === "touchpoint"
      ? event.target.closest("td.drop[data-stage-id]")
      : event.target.closest("th.stage[data-stage-id]");
  }

  function unmark() {
    document.querySelectorAll(".drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
  }

  document.addEventListener("dragstart", function (event) {
    var el = event.target.closest && event.target.closest("[draggable=true][data-move-url]");
    if (!el) { return; }
    dragged = {el: el, kind: el.hasAttribute("data-touchpoint-id") ? "touchpoint" : "stage", url: el.dataset.moveUrl};
    el.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", el.id); // some browsers start a drag only with data
    event.stopPropagation(); // a touchpoint card is not its stage
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.el.classList.remove("dragging"); }
    dragged = null;
    unmark();
  });

  document.addEventListener("dragover", function (event) {
    var over = target(event);
    if (!over) { return; }
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    if (!over.classList.contains("drop-here")) { unmark(); over.classList.add("drop-here"); }
  });

  document.addEventListener("drop", function (event) {
    var over = target(event);
    if (!over) { return; }
    event.preventDefault();
    var moving = dragged;
    var others, position;
    if (moving.kind === "touchpoint") {
      others = Array.from(over.querySelectorAll(".tp[data-touchpoint-id]")).filter(function (el) { return el !== moving.el; });
      position = slot(others, function (r) { return r.top + r.height / 2 < event.clientY; });
      post(moving.url, {stage: over.dataset.stageId, position: position});
    } else {
      others = Array.from(over.parentNode.querySelectorAll("th.stage[data-stage-id]")).filter(function (el) { return el !== moving.el; });
      position = slot(others, function (r) { return r.left + r.width / 2 < event.clientX; });
      post(moving.url, {position: position});
    }
    unmark();
  });

  // A refused edit answers 422 with the unchanged board and the reason; htmx swaps only 2xx
  // answers unless told, and the person must see why nothing changed.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.detail.target && event.detail.target.id === "board-fragment") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The reason (or the "archived instead" notice) sits above the board; the form that asked may
  // be far below it, so bring the message into view.
  document.addEventListener("htmx:afterSettle", function (event) {
    var message = document.getElementById("board-error") || document.getElementById("board-notice");
    if (message && event.detail.target && event.detail.target.id === "board-fragment") {
      message.scrollIntoView({block: "nearest"});
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
})();
