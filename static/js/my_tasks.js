// My tasks: a task just marked done shows "Undo" for a few seconds, then leaves the list.
(function () {
  "use strict";
  function arm(root) {
    root.querySelectorAll("[data-undo-seconds]").forEach(function (row) {
      if (row.dataset.undoArmed) return;
      row.dataset.undoArmed = "1";
      var seconds = parseInt(row.dataset.undoSeconds, 10) || 5;
      window.setTimeout(function () {
        if (!document.body.contains(row) || !row.hasAttribute("data-undo-seconds")) return;
        row.remove();
      }, seconds * 1000);
    });
  }
  arm(document);
  // htmx:load fires on each element htmx puts in the page (the swapped row).
  document.addEventListener("htmx:load", function () { arm(document); });
})();
