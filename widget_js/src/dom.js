/**
 * h("button", {cls: "primary", type: "button", onclick: go, text: "Continue"}, [children])
 *
 * `text` sets the text content, `on…` adds a listener, `cls` is the class; null, undefined and
 * false leave an attribute (or a child) out, true sets an empty attribute.
 */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key === "cls" ? "class" : key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child != null && child !== false) node.append(child);
  }
  return node;
}
