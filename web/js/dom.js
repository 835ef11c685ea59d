// Tiny DOM helpers: an escaping template tag (no framework, no inline handlers, CSP-friendly).

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

/** Markup that `html` inserts as is (already escaped or built by `html`). */
export class Raw {
  constructor(markup) {
    this.markup = markup;
  }

  toString() {
    return this.markup;
  }
}

export const raw = (markup) => new Raw(markup);

function render(value) {
  if (value instanceof Raw) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** html`<p>${text}</p>`: every interpolated value is escaped unless it is Raw (or a list of Raw). */
export function html(strings, ...values) {
  let markup = strings[0];
  values.forEach((value, index) => {
    markup += render(value) + strings[index + 1];
  });
  return new Raw(markup);
}

let nextId = 0;
/** A document-unique id for aria-labelledby / aria-describedby pairs. */
export function uniqueId(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

export function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}
