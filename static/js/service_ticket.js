// Ticket page: "Insert text" puts a related article's text (and its public link) into the
// reply, "Insert link" its title and link,
// the reply button says whether it sends a reply or adds a note, and the root cause is
// marked required while a complaint is being resolved or closed.
(function () {
  const reply = document.getElementById("reply-form");
  if (reply) {
    const body = reply.querySelector("textarea[name=body]");
    const submit = reply.querySelector("[data-reply-submit]");
    const hint = reply.querySelector("[data-note-hint]");
    const syncKind = () => {
      const internal = reply.querySelector("input[name=kind]:checked")?.value === "internal";
      reply.classList.toggle("reply-internal", internal);
      submit.textContent = internal ? submit.dataset.noteLabel : submit.dataset.publicLabel;
      hint.hidden = !internal;
    };
    reply.addEventListener("change", syncKind);
    syncKind();
    document.querySelectorAll("[data-insert-article]").forEach((button) => {
      button.addEventListener("click", () => {
        // "text": the article itself, then where to read it; "link": its title and link.
        const text =
          button.dataset.insertArticle === "text"
            ? `${button.dataset.text}\n\n${button.dataset.link}\n`
            : `${button.dataset.title}\n${button.dataset.link}\n`;
        const start = body.selectionStart ?? body.value.length;
        const before = body.value.slice(0, start);
        const gap = before && !before.endsWith("\n") ? "\n" : "";
        body.value = before + gap + text + body.value.slice(body.selectionEnd ?? start);
        const caret = (before + gap + text).length;
        body.focus();
        body.setSelectionRange(caret, caret);
      });
    });
  }

  const update = document.getElementById("update-form");
  if (update) {
    const rootCause = update.querySelector("[data-root-cause]");
    const select = rootCause.querySelector("select");
    const syncRootCause = () => {
      const category = update.querySelector("[name=category]").value;
      const status = update.querySelector("[name=status]").value;
      const needed = category === "complaint" && (status === "resolved" || status === "closed");
      select.required = needed;
      rootCause.classList.toggle("root-cause-needed", needed);
    };
    update.addEventListener("change", syncRootCause);
    syncRootCause();
  }

  // Long messages start folded; the button (hidden without JavaScript, when all is shown)
  // unfolds and folds them again.
  document.querySelectorAll("[data-show-more]").forEach((button) => {
    const body = button.previousElementSibling;
    const fold = (folded) => {
      body.classList.toggle("message-collapsed", folded);
      button.setAttribute("aria-expanded", String(!folded));
      button.textContent = folded ? button.dataset.moreLabel : button.dataset.lessLabel;
    };
    button.addEventListener("click", () => fold(!body.classList.contains("message-collapsed")));
    fold(true);
    button.hidden = false;
  });
})();
