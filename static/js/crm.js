// Behaviour every page shares, bound here rather than in inline handlers, which the
// Content Security Policy refuses (crm/security_settings.py).
//   data-confirm="Question?"  on a form (asked on submit) or a submit button (on click)
//   data-submit-on-change     on a select: submits its form when the choice changes
//   data-copy-target="#id"    on a button: copies that field's value (data-copied-text: new label)
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
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target]");
    const field = button && document.querySelector(button.dataset.copyTarget);
    if (!field) {
      return;
    }
    field.select();
    const done = function () {
      if (button.dataset.copiedText) {
        button.textContent = button.dataset.copiedText;
      }
    };
    // The selected field is copied the old way when the Clipboard API is missing or
    // refuses (no permission, the page not focused).
    const copySelection = function () {
      if (document.execCommand("copy")) {
        done();
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, copySelection);
    } else {
      copySelection();
    }
  });
  // The search box's suggestions: arrow keys move between the box and the links, Escape
  // closes them (Enter on a link follows it, as any link).
  document.addEventListener("keydown", function (event) {
    const box = document.getElementById("search-suggestions");
    if (!box || !["ArrowDown", "ArrowUp", "Escape"].includes(event.key)) {
      return;
    }
    const input = box.parentElement.querySelector("input[type=search]");
    const links = Array.from(box.querySelectorAll("a"));
    const at = links.indexOf(document.activeElement);
    if (document.activeElement !== input && at === -1) {
      return;
    }
    if (event.key === "Escape") {
      box.replaceChildren();
      input.focus();
    } else if (links.length) {
      const next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) {
        input.focus();
      } else {
        links[Math.min(next, links.length - 1)].focus();
      }
    }
    event.preventDefault();
  });
})();
