// The keyboard of a single-select listbox (WAI-ARIA APG "Listbox"), as pure functions so the
// Clients list (virtualized: only the visible rows are in the page) and its tests share them.
// The list keeps the focus itself and names its active option with aria-activedescendant.

/** What a key does in a listbox of `count` options whose active one is `active` (-1: none). */
export type ListboxMove = { kind: 'move'; to: number } | { kind: 'choose' } | null;

/**
 * Up/Down move by one (stopping at the ends), Home/End go to the first/last, PageUp/PageDown
 * by `page` options, Enter/Space choose the active option. Any other key: `null` (not ours).
 * With no active option, the first movement key activates the first option (Up/End/PageUp:
 * the last, as Up from nowhere means from the end).
 */
export function listboxKey(key: string, active: number, count: number, page: number): ListboxMove {
  if (count <= 0) return null;
  const last = count - 1;
  const step = Math.max(1, Math.floor(page));
  const clamp = (i: number) => Math.min(last, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return { kind: 'move', to: active < 0 ? 0 : clamp(active + 1) };
    case 'ArrowUp':
      return { kind: 'move', to: active < 0 ? last : clamp(active - 1) };
    case 'Home':
      return { kind: 'move', to: 0 };
    case 'End':
      return { kind: 'move', to: last };
    case 'PageDown':
      return { kind: 'move', to: active < 0 ? clamp(step - 1) : clamp(active + step) };
    case 'PageUp':
      return { kind: 'move', to: active < 0 ? 0 : clamp(active - step) };
    case 'Enter':
    case ' ':
      return active >= 0 && active <= last ? { kind: 'choose' } : null;
    default:
      return null;
  }
}

/** A printable character typed for type-ahead (no modifier but Shift). Space counts only inside a search going on (else it chooses). */
export function isTypeAheadKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>, typing = false): boolean {
  return e.key.length === 1 && (e.key !== ' ' || typing) && !e.ctrlKey && !e.metaKey && !e.altKey;
}

/**
 * Type-ahead: characters typed within `delay` ms of each other form one search; the next
 * option (from the active one on, wrapping) whose label starts with it becomes active. The
 * same character typed again cycles through the options starting with it.
 */
export class TypeAhead {
  #text = '';
  #at = -Infinity;
  constructor(readonly delay = 500) {}

  /** The search after typing `ch` at time `now` (ms). */
  push(ch: string, now: number): string {
    if (now - this.#at > this.delay) this.#text = '';
    this.#at = now;
    this.#text += ch.toLowerCase();
    return this.#text;
  }

  /** A search is going on: a Space typed now belongs to it (it does not choose). */
  typing(now: number): boolean {
    return this.#text !== '' && now - this.#at <= this.delay;
  }

  reset(): void {
    this.#text = '';
    this.#at = -Infinity;
  }

  /**
   * The option the search `text` lands on among `count` options labelled by `label(i)`, or -1.
   * A longer search first tries the active option itself (typing on refines it); a single
   * character, or a repeated one, starts after it.
   */
  static find(typed: string, active: number, count: number, label: (i: number) => string): number {
    const text = typed.toLowerCase();
    if (count <= 0 || text === '') return -1;
    const repeated = text.length > 1 && [...text].every((c) => c === text[0]);
    const needle = repeated ? text[0] : text;
    const startAfter = needle.length === 1;
    const from = active < 0 ? 0 : startAfter ? active + 1 : active;
    for (let k = 0; k < count; k++) {
      const i = (from + k) % count;
      if (label(i).toLowerCase().startsWith(needle)) return i;
    }
    return -1;
  }
}

/** The scroll position that shows row `index` (of `rowHeight`) in a `viewport` high list scrolled to `scrollTop`: unchanged when it is already fully shown. */
export function scrollToShow(index: number, rowHeight: number, scrollTop: number, viewport: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewport) return Math.max(0, bottom - viewport);
  return scrollTop;
}

/** The indexes of the rows to put in the page: the visible window plus the active row wherever it is (aria-activedescendant must name an element that exists). */
export function renderedRows(range: { start: number; end: number }, active: number, total: number): number[] {
  const out: number[] = [];
  for (let i = range.start; i < range.end; i++) out.push(i);
  if (active >= 0 && active < total && (active < range.start || active >= range.end)) {
    if (active < range.start) out.unshift(active);
    else out.push(active);
  }
  return out;
}
