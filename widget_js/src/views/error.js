// A load that failed: a message and, unless the link is gone, a retry. Never a blank bubble.
import { h } from "../dom.js";

/** on: {retry()} or no retry */
export function errorView({ t, message }, on) {
  return [
    h("p", { cls: "alert", role: "alert", text: message }),
    on.retry && h("button", { cls: "primary", type: "button", "data-k": "retry", text: t.retry, onclick: on.retry }),
  ];
}
