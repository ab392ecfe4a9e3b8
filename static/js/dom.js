// Small DOM helpers. Text from plans, check-ins and messages only ever goes in as text.

/** Return the element with this id (throws if the page lacks it, so a typo fails loudly). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing element #${id}`);
  return element;
}

/** Set an element's text, touching the DOM only when it changes. */
export function setText(element, text) {
  const value = text == null ? "" : String(text);
  if (element.textContent !== value) element.textContent = value;
}

/**
 * Return a piece of someone's text wrapped in Unicode isolates (FSI ... PDI), for lines that
 * join it with other words: whatever its direction, it cannot reorder its neighbours.
 */
export function isolate(text) {
  return text ? `\u2068${text}\u2069` : "";
}

/** Show or hide an element. */
export function show(element, visible) {
  if (element.hidden === visible) element.hidden = !visible;
}

/** Return a copy of the first element of a <template>. */
export function cloneTemplate(id) {
  return byId(id).content.firstElementChild.cloneNode(true);
}

/** Return the descendant with this data-slot name (throws if missing). */
export function slot(root, name) {
  const element = root.querySelector(`[data-slot="${name}"]`);
  if (!element) throw new Error(`missing slot ${name}`);
  return element;
}

/**
 * Make a container's children match a list, keyed by data-key: existing elements are
 * updated in place (so focus and scroll stay where they are), new ones are created,
 * missing ones removed, and the order follows the list.
 */
export function syncChildren(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
    else child.remove();
  }
  let previous = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let element = existing.get(key);
    if (element) existing.delete(key);
    else {
      element = create(item);
      element.dataset.key = key;
    }
    update(element, item);
    const expectedPosition = previous ? previous.nextElementSibling : container.firstElementChild;
    if (expectedPosition !== element) container.insertBefore(element, expectedPosition);
    previous = element;
  }
  for (const stale of existing.values()) stale.remove();
}

/** Set a data-* attribute only when it changes (CSS keys off these). */
export function setData(element, name, value) {
  const text = value == null ? "" : String(value);
  if (element.dataset[name] !== text) element.dataset[name] = text;
}
