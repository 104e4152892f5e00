// Tandem's own behaviour: small, no framework.
document.addEventListener("DOMContentLoaded", () => {
  // On a narrow screen the pipeline navigation scrolls sideways: show the current page.
  const active = document.querySelector(".project-nav .nav-link.active");
  if (active) {
    const strip = active.closest(".project-nav");
    strip.scrollLeft = active.offsetLeft - (strip.clientWidth - active.offsetWidth) / 2;
  }
});
