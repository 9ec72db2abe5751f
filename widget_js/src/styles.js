import css from "./styles.css"; // the build turns the stylesheet into a minified string

let shared = null;

/** Puts the widget's styles into a shadow root. */
export function adoptStyles(root) {
  // A constructed stylesheet is shared by every widget and passes a host's strict style-src CSP.
  try {
    if (!shared) {
      shared = new CSSStyleSheet();
      shared.replaceSync(css);
    }
    root.adoptedStyleSheets = [shared];
  } catch {
    const style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
}
