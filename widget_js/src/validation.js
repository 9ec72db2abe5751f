// The booking form's rules, the same as the API's (SPEC §6, §14), and the server's answer mapped to fields.
import { EMAIL_PATTERN, LIMITS, OPTIONAL_FIELDS, PHONE_FIELDS, PHONE_PATTERN } from "./config.js";
import { fill } from "./strings/index.js";

const length = (text) => Array.from(text).length; // code points, as the server counts

/** {field: message} for every invalid one of `fields`; empty when the form can be sent. */
export function validate(values, t, fields) {
  const errors = {};
  for (const name of fields) {
    const value = name === "description" ? values[name] : values[name].trim();
    if (!value && !OPTIONAL_FIELDS.includes(name)) errors[name] = t.required;
    else if (length(value) > LIMITS[name]) errors[name] = name === "phone" ? t.badPhone : fill(t.tooLong, { n: LIMITS[name] });
    else if (name === "email" && !EMAIL_PATTERN.test(value)) errors[name] = t.badEmail;
    else if (name === "phone" && !PHONE_PATTERN.test(value)) errors[name] = t.badPhone;
  }
  return errors;
}

const MESSAGES = { email: "badEmail", phone: "badPhone" };

/** A 422's [{loc, msg}] as {field: message}, for the fields the form has. */
export function serverFieldErrors(detail, t) {
  const errors = {};
  for (const item of detail) {
    const field = item.loc && item.loc[item.loc.length - 1];
    if (PHONE_FIELDS.includes(field)) errors[field] = MESSAGES[field] ? t[MESSAGES[field]] : item.msg;
  }
  return errors;
}
