// Texts per language, from the JSON catalogs served with the app (kept beside service/locale).
export const LANGUAGES = ["kk", "ru", "en"];
let texts = {};
let current = "ru";

export async function useLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "ru";
  const response = await fetch(`/app/static/i18n/${current}.json`);
  texts = await response.json();
  document.documentElement.lang = current;
  return current;
}

export function lang() {
  return current;
}

// t("key", {n: 3}) -> the text with {n} filled in; the key itself when a text is missing.
export function t(key, values = {}) {
  const text = texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// Whether the catalog has a text (for keys built from server codes).
export function has(key) {
  return Object.prototype.hasOwnProperty.call(texts, key);
}

// A template's own text ({ru, kk, en}) in the current language.
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[current] ?? text.ru ?? text.en ?? Object.values(text)[0] ?? "";
}
