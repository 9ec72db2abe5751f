// Step 4: the invitee's details (field names are the API's, SPEC §10).
import { h } from "../dom.js";
import { AUTOCOMPLETE, INPUT_TYPES, OPTIONAL_FIELDS } from "../config.js";

function field(name, { t, values, errors }, on) {
  const optional = OPTIONAL_FIELDS.includes(name);
  const attributes = {
    id: `f-${name}`,
    name,
    "data-k": `f-${name}`,
    required: !optional,
    "aria-invalid": errors[name] ? "true" : null,
    "aria-describedby": `e-${name}`,
    autocomplete: AUTOCOMPLETE[name],
    type: INPUT_TYPES[name],
    oninput: (event) => on.input(name, event.target.value),
  };
  const control =
    name === "description"
      ? h("textarea", attributes, [values[name]])
      : h("input", { ...attributes, value: values[name] });
  return h("div", {}, [
    h("label", { for: `f-${name}` }, [t[name], optional && " ", optional && h("small", { text: t.optional })]),
    control,
    h("p", { cls: "field-error", id: `e-${name}`, text: errors[name] || "" }),
  ]);
}

/** fields: the names in order; errors {field: message}; alert: a message above the button;
 * retry: offer "Try again". on: {input(name, value), submit(), retry()} */
export function formView({ t, fields, values, errors = {}, alert, retry }, on) {
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        on.submit();
      },
    },
    [
      ...fields.map((name) => field(name, { t, values, errors }, on)),
      alert && h("div", { cls: "alert", role: "alert" }, [alert]),
      retry && h("button", { type: "button", "data-k": "retry", text: t.retry, onclick: on.retry }),
      h("button", { cls: "primary", type: "submit", "data-k": "submit", text: t.book }),
    ],
  );
  return [form];
}

/** The first field to fix, or the retry button, for focus after the form is drawn again. */
export const formFocusTarget = (body) => body.querySelector("[aria-invalid=true]") || body.querySelector('[data-k="retry"]');

/** The submit button while the booking is on its way. */
export function showSending(body, t) {
  const button = body.querySelector('[data-k="submit"]');
  if (button) {
    button.disabled = true;
    button.textContent = t.booking;
  }
}
