// Customer list: the bulk bar shows only the input the chosen action needs,
// and says how many rows are selected.
(function () {
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const action = form.querySelector("[name=action]");
  const scope = form.querySelector("[name=scope]");
  const inputFor = { assign_owner: "owner", add_tag: "tag", remove_tag: "tag", set_stage: "stage" };
  const counter = document.getElementById("selected-count");

  function refresh() {
    for (const name of ["owner", "tag", "stage"]) {
      const wrapper = form.querySelector(`[data-bulk-input=${name}]`);
      wrapper.hidden = inputFor[action.value] !== name;
    }
    const selected = form.querySelectorAll("input[name=selected]:checked").length;
    counter.textContent = counter.dataset.template.replace("%s", selected);
    form.querySelector("[data-bulk-apply]").disabled = scope.value === "selected" && selected === 0;
  }

  form.addEventListener("change", refresh);
  form.querySelector("[data-select-page]").addEventListener("change", (event) => {
    form.querySelectorAll("input[name=selected]").forEach((box) => (box.checked = event.target.checked));
    refresh();
  });
  refresh();
})();
