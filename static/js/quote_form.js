// Quote and order lines: add and remove rows of the formset; a product fills its line.
(function () {
  const body = document.querySelector("[data-lines]");
  const template = document.getElementById("line-template");
  const total = document.getElementById("id_lines-TOTAL_FORMS");
  const dataNode = document.getElementById("product-data");
  if (!body || !template || !total) return;
  const products = dataNode ? JSON.parse(dataNode.textContent) : {};

  function visibleRows() {
    return body.querySelectorAll("tr[data-line]:not(.d-none)").length;
  }

  document.querySelector("[data-add-line]").addEventListener("click", () => {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = body.lastElementChild;
    const first = row.querySelector("select, input");
    if (first) first.focus();
  });

  body.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-line]");
    if (!button) return;
    const row = button.closest("tr");
    if (visibleRows() <= 1) {
      row.querySelectorAll("input:not([type=checkbox]):not([type=hidden]), select").forEach((el) => { el.value = ""; });
      return;
    }
    const remove = row.querySelector("input[type=checkbox][name$='-DELETE']");
    if (remove) remove.checked = true;
    row.classList.add("d-none");
  });

  body.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-field=product]");
    if (!select) return;
    const product = products[select.value];
    if (!product) return;
    const row = select.closest("tr");
    const set = (name, value) => {
      const input = row.querySelector(`[data-field=${name}]`);
      if (input) input.value = value;
    };
    set("description", product.description);
    set("unit_price", product.unit_price);
    set("tax_rate", product.tax_rate);
    const quantity = row.querySelector("[data-field=quantity]");
    if (quantity && !quantity.value) quantity.value = "1";
  });
})();
