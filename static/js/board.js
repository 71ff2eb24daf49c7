// The Kanban board: drag a card to another column; the server saves the move or refuses it.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board || !window.Sortable) return;
  const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  const message = document.getElementById("board-message");

  function show(text, kind) {
    message.textContent = text;
    message.className = "alert py-2 alert-" + kind;
    message.hidden = false;
  }

  function snapBack(event) {
    const before = event.from.children[event.oldIndex] || null;
    event.from.insertBefore(event.item, before);
  }

  async function moved(event) {
    if (event.from === event.to) return;
    const card = event.item;
    const target = event.to;
    let reason = "";
    if (target.dataset.lost === "1") {
      reason = window.prompt(board.dataset.lostPrompt) || "";
      if (!reason.trim()) {
        snapBack(event);
        show(board.dataset.lostRefused, "warning");
        return;
      }
    }
    const body = new URLSearchParams({
      stage: target.dataset.stage,
      version: card.dataset.version,
      lost_reason: reason,
      owner: board.dataset.owner,
    });
    card.classList.add("moving");
    try {
      const response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": headers["X-CSRFToken"] || "", Accept: "application/json" },
        body: body,
        credentials: "same-origin",
      });
      let data = {};
      try { data = await response.json(); } catch (error) { data = {}; }
      if (!response.ok) {
        snapBack(event);
        // After a concurrent edit: where the other person put the deal.
        const theirs = (data.conflicts || []).map(function (c) { return c.label + ": " + c.theirs; });
        show([data.error || board.dataset.genericError].concat(theirs).join(" "), "danger");
        return;
      }
      const template = document.createElement("template");
      template.innerHTML = data.card.trim();
      card.replaceWith(template.content.firstElementChild);
      for (const [stage, html] of Object.entries(data.columns)) {
        const header = board.querySelector('[data-column-header="' + stage + '"]');
        if (header) header.innerHTML = html;
      }
      show(data.message, "success");
    } catch (error) {
      snapBack(event);
      show(board.dataset.genericError, "danger");
    } finally {
      card.classList.remove("moving");
    }
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    window.Sortable.create(list, {
      group: "deals",
      sort: false,
      animation: 150,
      draggable: ".deal-card",
      filter: ".locked",
      preventOnFilter: false,
      onEnd: moved,
    });
  });
})();
