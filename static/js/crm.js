// Behaviour every page shares, bound here rather than in inline handlers, which the
// Content Security Policy refuses (crm/security_settings.py).
//   data-confirm="Question?"  on a form (asked on submit) or a submit button (on click)
//   data-submit-on-change     on a select: submits its form when the choice changes
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-confirm], input[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (event) {
    const select = event.target.closest("[data-submit-on-change]");
    if (select && select.form) {
      select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
    }
  });
})();
