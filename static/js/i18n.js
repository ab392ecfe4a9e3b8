// Message catalogs in the browser: the same keys and {name} values as runsheet/i18n.

/** Return a translate function over a catalog: t("key", {name: value}). */
export function makeTranslator(catalog) {
  return function t(key, values) {
    const text = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole,
    );
  };
}
