// Accessible names that contain the visible text (WCAG 2.5.3, axe-core's
// label-content-name-mismatch): the theme labels its search field "Search" while it shows
// "Search" and a keyboard shortcut, and its theme switch by a fixed label.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll(".search-button-field[aria-label]")) {
    button.removeAttribute("aria-label");
  }
  for (const button of document.querySelectorAll(".theme-switch-button[aria-label]")) {
    button.setAttribute("aria-label", button.getAttribute("title") || "Color mode");
  }
});
