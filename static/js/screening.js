// Keyboard shortcuts of the screening screen: i include, e exclude, m maybe, u undo,
// n note, ? help. Keys typed into a field are left alone.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  const click = (id) => { const el = document.getElementById(id); if (el) { event.preventDefault(); el.click(); } };
  switch (event.key) {
    case "i": click("vote-include"); break;
    case "e": {
      const reason = document.getElementById("reason");
      if (reason && !reason.value) { event.preventDefault(); reason.focus(); break; }
      click("vote-exclude"); break;
    }
    case "m": click("vote-maybe"); break;
    case "u": click("undo-last"); break;
    case "n": { const note = document.getElementById("note"); if (note) { event.preventDefault(); note.focus(); } break; }
    case "?": { const modal = document.getElementById("shortcuts"); if (modal) bootstrap.Modal.getOrCreateInstance(modal).toggle(); break; }
  }
});

// The following record is fetched ahead with each panel (<template id="record-ahead">): when a
// vote is sent, it is shown at once while the vote is saved; the server's answer (the same
// record, and the one after it) then replaces the panel.
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt;
  if (!form || form.id !== "vote-form") return;
  const ahead = document.getElementById("record-ahead");
  const card = document.getElementById("current-card");
  if (!ahead || !card) return;
  card.replaceChildren(ahead.content.cloneNode(true));
  ahead.remove();
  document.getElementById("record").dataset.record = ahead.dataset.record;
  form.querySelectorAll("button, input, select").forEach((el) => { el.disabled = true; });
  form.setAttribute("aria-busy", "true");
});

// A vote that could not be sent (network, server error) must not pass unnoticed.
["htmx:sendError", "htmx:responseError"].forEach((name) => {
  document.addEventListener(name, (event) => {
    if (!event.detail.elt || event.detail.elt.id !== "vote-form") return;
    const record = document.getElementById("record");
    const alert = document.createElement("div");
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = "Your vote was not saved (the server did not answer). Reload the page to go on.";
    record.prepend(alert);
  });
});
