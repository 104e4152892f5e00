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
