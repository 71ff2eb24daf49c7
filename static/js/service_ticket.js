// Ticket page: one reply form ("Send and set …" a status, a macro's text and actions, the
// draft saved as the agent types, a question before leaving unsent text);
// "Insert text" puts a related article's text (and its public link) into the
// reply, "Insert link" its title and link,
// the reply button says whether it sends a reply or adds a note, and the root cause is
// marked required while a complaint is being resolved or closed.
(function () {
  const reply = document.getElementById("reply-form");
  if (reply) {
    const body = reply.querySelector("textarea[name=body]");
    const submit = reply.querySelector("[data-reply-submit]");
    const hint = reply.querySelector("[data-note-hint]");
    const statusButtons = reply.querySelectorAll("[data-send-status]");
    const syncKind = () => {
      const internal = reply.querySelector("input[name=kind]:checked")?.value === "internal";
      const empty = body.value.trim() === "";
      reply.classList.toggle("reply-internal", internal);
      submit.textContent = internal ? submit.dataset.noteLabel : submit.dataset.publicLabel;
      statusButtons.forEach((button) => {
        const label = empty ? "onlyLabel" : internal ? "noteLabel" : "publicLabel";
        button.textContent = button.dataset[label];
      });
      hint.hidden = !internal;
    };
    reply.addEventListener("change", syncKind);
    body.addEventListener("input", syncKind);
    syncKind();

    // Leaving with unsent text asks first (the draft is saved too, but may lag a keystroke).
    const loaded = body.value;
    let submitting = false;
    // Once sent, no autosave may bring the sent text back as a draft: a pending one is
    // dropped and one in flight aborted.
    const autosave = reply.querySelector("[data-draft-autosave]");
    autosave.addEventListener("htmx:confirm", (event) => {
      if (submitting) event.preventDefault();
    });
    reply.addEventListener("submit", () => {
      submitting = true;
      window.htmx?.trigger(autosave, "htmx:abort");
    });
    window.addEventListener("beforeunload", (event) => {
      if (!submitting && body.value.trim() !== "" && body.value !== loaded) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    // The side form carries the typed reply: it is kept as the draft when the ticket is saved.
    const update = document.getElementById("update-form");
    update?.addEventListener("submit", () => {
      submitting = true;
      update.querySelector("[name=reply_draft]").value = body.value;
      update.querySelector("[name=reply_kind]").value =
        reply.querySelector("input[name=kind]:checked")?.value || "";
    });

    // Macros: the type-ahead list fills the text and queues the macro's actions, which are
    // listed above the send button until sent or removed.
    const search = document.getElementById("macro-search");
    const results = document.getElementById("macro-results");
    const queued = document.getElementById("macro-queued");
    const macroInput = reply.querySelector("input[name=macro]");
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        results.querySelector("[data-macro-choose]")?.click();
      } else if (event.key === "Escape") {
        results.hidden = true;
      }
    });
    search.addEventListener("htmx:afterSwap", () => {
      results.hidden = false;
    });
    results.addEventListener("htmx:afterSwap", () => {
      results.hidden = false;
    });
    const showActions = (name, actions, error) => {
      queued.querySelector("[data-macro-name]").textContent = name;
      const list = queued.querySelector("[data-macro-actions]");
      list.replaceChildren(
        ...actions.map((action) => {
          const item = document.createElement("li");
          item.textContent = action;
          return item;
        }),
      );
      queued.querySelector("[data-macro-error]").textContent = error || "";
      queued.hidden = !actions.length && !error;
    };
    results.addEventListener("click", async (event) => {
      const choice = event.target.closest("[data-macro-choose]");
      if (!choice) return;
      const response = await fetch(choice.dataset.macroChoose, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      const name = choice.querySelector(".fw-semibold")?.textContent || "";
      results.hidden = true;
      search.value = "";
      if (!response.ok) {
        showActions(name, [], data.error || response.statusText);
        return;
      }
      const gap = body.value && !body.value.endsWith("\n") ? "\n\n" : "";
      body.value = body.value.trim() ? body.value + gap + data.text : data.text;
      body.dispatchEvent(new Event("input", { bubbles: true }));
      macroInput.value = String(data.id);
      showActions(name, data.actions, "");
      body.focus();
    });
    queued.querySelector("[data-macro-remove]").addEventListener("click", () => {
      macroInput.value = "";
      queued.hidden = true;
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest("#macro-picker")) results.hidden = true;
    });

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
        body.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
      });
    });
  }

  const update = document.getElementById("update-form");
  if (update) {
    const rootCause = update.querySelector("[data-root-cause]");
    const select = rootCause.querySelector("select");
    const syncRootCause = () => {
      const category = update.querySelector("[name=category]").value;
      // The status is set from the reply form now; the side form knows the current one.
      const status = update.dataset.status;
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
