// Ticket queue: select every row of the page, count the selection, and keep the bulk
// buttons disabled until a row is selected; a status change asks for confirmation.
(function () {
  const form = document.getElementById("bulk-form");
  const bar = document.getElementById("bulk-bar");
  if (!form || !bar) return;
  const counter = document.getElementById("selected-count");
  const boxes = () => form.querySelectorAll("input[name=selected]");

  function refresh() {
    const selected = form.querySelectorAll("input[name=selected]:checked").length;
    counter.textContent = counter.dataset.template.replace("%s", selected);
    bar.querySelectorAll("[data-bulk-apply]").forEach((button) => (button.disabled = selected === 0));
  }

  form.addEventListener("change", refresh);
  const all = form.querySelector("[data-select-page]");
  if (all) {
    all.addEventListener("change", (event) => {
      boxes().forEach((box) => (box.checked = event.target.checked));
      refresh();
    });
  }
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (button && button.value === "status" && !window.confirm(bar.dataset.confirm)) {
      event.preventDefault();
    }
  });
  refresh();
})();
