// Every user-visible string, one dictionary per language. Add a language: copy ./en.js, translate
// it and list it below (the build refuses a dictionary whose keys differ from English). Hosts can
// also add one at run time before mounting: Meetings.strings.de = {...every key of Meetings.strings.en}.
import en from "./en.js";
import pl from "./pl.js";

export const STRINGS = { en, pl };

const language = (tag) => String(tag).slice(0, 2).toLowerCase();

/** The first wanted locale, then the browser's, that has a dictionary; English otherwise. */
export function pickLocale(wanted) {
  const candidates = [].concat(wanted || [], navigator.languages || [], navigator.language || []);
  const found = candidates.find((tag) => STRINGS[language(tag)]);
  return found === undefined ? "en" : String(found);
}

export const dictionaryFor = (locale) => STRINGS[language(locale)];

/** "{n} min" with {n: 30} → "30 min". */
export const fill = (template, vars) => template.replace(/\{(\w+)\}/g, (_, name) => vars[name]);
