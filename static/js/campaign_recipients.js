// Campaign recipients: "select all on this page" and the count of ticked rows for the
// bulk outcome form. htmx loads and reloads the list, so the listeners are on the document.
(function () {
  function boxes() {
    return document.querySelectorAll('input[name=selected][form="bulk-outcome-form"]');
  }

  function refresh() {
    const form = document.getElementById("bulk-outcome-form");
    if (!form) return;
    const all = boxes();
    const ticked = Array.from(all).filter((box) => box.checked).length;
    const counter = form.querySelector("[data-selected-count]");
    counter.textContent = counter.dataset.template.replace("%s", ticked);
    form.querySelector("[data-bulk-record]").disabled = ticked === 0;
    const page = document.querySelector("[data-select-page]");
    if (page) {
      page.checked = ticked > 0 && ticked === all.length;
      page.indeterminate = ticked > 0 && ticked < all.length;
    }
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-select-page]")) {
      boxes().forEach((box) => (box.checked = target.checked));
    }
    if (target.matches('[data-select-page], input[name=selected][form="bulk-outcome-form"]')) {
      refresh();
    }
  });
  document.addEventListener("htmx:afterSettle", refresh);
  refresh();
})();
