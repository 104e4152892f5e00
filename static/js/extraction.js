// Extraction forms: add rows to repeating tables, and drag-and-drop reordering in the builder
// (the up/down buttons do the same without a mouse, and without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-row]");
    if (!button) return;
    const name = button.dataset.addRow;
    const table = document.querySelector(`table[data-table="${name}"] tbody`);
    const count = document.querySelector(`input[name="${name}-rows"]`);
    const last = table.lastElementChild;
    const index = Number(count.value);
    const row = last.cloneNode(true);
    const old = `${name}-${last.dataset.row}-`;
    const fresh = `${name}-${index}-`;
    row.dataset.row = String(index);
    row.querySelectorAll("[name],[id],[for],[aria-describedby],[aria-label]").forEach((el) => {
      for (const attr of ["name", "id", "for", "aria-describedby"]) {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.split(old).join(fresh));
      }
      const label = el.getAttribute("aria-label");
      if (label) el.setAttribute("aria-label", label.replace(/, row \d+$/, `, row ${index + 1}`));
      if (el.matches("input[type=checkbox], input[type=radio]")) el.checked = false;
      else if (el.matches("input, textarea")) el.value = "";
      else if (el.matches("select")) el.selectedIndex = 0;
      el.classList.remove("is-invalid");
    });
    row.querySelectorAll(".invalid-feedback").forEach((el) => el.remove());
    row.firstElementChild.textContent = String(index + 1);
    table.appendChild(row);
    count.value = String(index + 1);
    count.dispatchEvent(new Event("change", { bubbles: true }));
    const first = row.querySelector("input, select, textarea");
    if (first) first.focus();
  });

  // Drag and drop: [data-sortable] holds [draggable] items with data-id. With data-url the
  // new order is posted at once (action=reorder, order=ids); without, only the page's order
  // (and its hidden inputs) changes and the form's Save keeps it.
  document.querySelectorAll("[data-sortable]").forEach((list) => {
    let dragged = null; // per list: a field dragged inside a section card is not the card
    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("[draggable=true]");
      if (dragged && dragged.parentElement === list) event.dataTransfer.effectAllowed = "move";
      else dragged = null;
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest("[draggable=true]");
      if (!over || over === dragged || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => {
      if (!dragged) return;
      event.preventDefault();
      dragged = null;
      if (!list.dataset.url) return;
      const body = new FormData();
      body.append("action", "reorder");
      body.append("order", [...list.children].filter((el) => el.dataset.id)
        .map((el) => el.dataset.id).join(","));
      const token = document.querySelector("[name=csrfmiddlewaretoken]");
      fetch(list.dataset.url, { method: "POST", body,
        headers: { "X-CSRFToken": token ? token.value : "" } })
        .then(() => window.location.reload());
    });
  });
});
