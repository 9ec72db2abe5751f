// The booking form's rules, the same as the API's (SPEC §6), and the server's answer mapped to fields.
import { EMAIL_PATTERN, FIELDS, LIMITS, OPTIONAL_FIELDS } from "./config.js";
import { fill } from "./strings/index.js";

const length = (text) => Array.from(text).length; // code points, as the server counts

/** {field: message} for every invalid field; empty when the form can be sent. */
export function validate(values, t) {
  const errors = {};
  for (const name of FIELDS) {
    const value = name === "description" ? values[name] : values[name].trim();
    if (!value && !OPTIONAL_FIELDS.includes(name)) errors[name] = t.required;
    else if (length(value) > LIMITS[name]) errors[name] = fill(t.tooLong, { n: LIMITS[name] });
    else if (name === "email" && !EMAIL_PATTERN.test(value)) errors[name] = t.badEmail;
  }
  return errors;
}

/** A 422's [{loc, msg}] as {field: message}, for the fields the form has. */
export function serverFieldErrors(detail, t) {
  const errors = {};
  for (const item of detail) {
    const field = item.loc && item.loc[item.loc.length - 1];
    if (FIELDS.includes(field)) errors[field] = field === "email" ? t.badEmail : item.msg;
  }
  return errors;
}
