// The extraction screen: no typing is lost. Each answer autosaves (htmx, on the field's
// wrapper); a field stays "unsaved" from the first keystroke until a save that carried that
// keystroke came back without an error, and leaving the page with an unsaved field asks
// first. The explicit Save and Mark complete buttons post everything and never ask.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("extraction-form");
  if (!form || !form.dataset.editable) return;
  const edits = new Map(); // field key -> edits so far
  let submitting = false;
  const keyOf = (el) => {
    const wrapper = el.closest && el.closest("[data-autosave-field]");
    return wrapper ? wrapper.dataset.autosaveField : null;
  };
  const mark = (event) => {
    const key = keyOf(event.target);
    if (key) edits.set(key, (edits.get(key) || 0) + 1);
  };
  // Capture: counted before htmx (on the wrapper, deeper) sends the save.
  form.addEventListener("input", mark, true);
  form.addEventListener("change", mark, true);
  document.body.addEventListener("htmx:configRequest", (event) => {
    const key = event.detail.elt.dataset && event.detail.elt.dataset.autosaveField;
    if (key) event.detail.elt.dataset.sent = String(edits.get(key) || 0);
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    const key = elt.dataset && elt.dataset.autosaveField;
    if (!key) return;
    const text = (event.detail.xhr && event.detail.xhr.responseText) || "";
    const saved = event.detail.successful && text.includes('data-saved="1"');
    if (saved && String(edits.get(key) || 0) === elt.dataset.sent) edits.delete(key);
  });
  form.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (submitting || edits.size === 0) return;
    event.preventDefault();
    event.returnValue = "";
  });
});
