// Every user-visible string, one dictionary per language. Add a language: copy ./en.js, translate
// it and list it below (the build refuses a dictionary whose keys differ from English). Hosts can
// also add one at run time before mounting: Meetings.strings.it = {...every key of Meetings.strings.en}.
import de from "./de.js";
import en from "./en.js";
import es from "./es.js";
import fr from "./fr.js";
import pl from "./pl.js";

export const STRINGS = { en, pl, de, fr, es };

const language = (tag) => String(tag).slice(0, 2).toLowerCase();

/** The first of: the wanted locale (mount option, the element's locale or lang attribute), the
 * browser's languages, the page's language, that has a dictionary; English otherwise. */
export function pickLocale(wanted) {
  const candidates = [].concat(wanted || [], navigator.languages || [], navigator.language || [], document.documentElement.lang || []);
  const found = candidates.find((tag) => STRINGS[language(tag)]);
  return found === undefined ? "en" : String(found);
}

export const dictionaryFor = (locale) => STRINGS[language(locale)];

/** The language code the API stores with a booking ("pl" for "pl-PL"). */
export const languageOf = language;

/** "{n} min" with {n: 30} → "30 min". */
export const fill = (template, vars) => template.replace(/\{(\w+)\}/g, (_, name) => vars[name]);
