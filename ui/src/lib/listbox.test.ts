import { describe, expect, it } from 'vitest';
import { isTypeAheadKey, listboxKey, renderedRows, scrollToShow, TypeAhead } from './listbox';

describe('listboxKey', () => {
  it('moves by one and stops at the ends', () => {
    expect(listboxKey('ArrowDown', 0, 5, 3)).toEqual({ kind: 'move', to: 1 });
    expect(listboxKey('ArrowDown', 4, 5, 3)).toEqual({ kind: 'move', to: 4 });
    expect(listboxKey('ArrowUp', 2, 5, 3)).toEqual({ kind: 'move', to: 1 });
    expect(listboxKey('ArrowUp', 0, 5, 3)).toEqual({ kind: 'move', to: 0 });
  });

  it('goes to the first and last, and by pages', () => {
    expect(listboxKey('Home', 3, 5000, 9)).toEqual({ kind: 'move', to: 0 });
    expect(listboxKey('End', 3, 5000, 9)).toEqual({ kind: 'move', to: 4999 });
    expect(listboxKey('PageDown', 3, 5000, 9)).toEqual({ kind: 'move', to: 12 });
    expect(listboxKey('PageDown', 4995, 5000, 9)).toEqual({ kind: 'move', to: 4999 });
    expect(listboxKey('PageUp', 12, 5000, 9)).toEqual({ kind: 'move', to: 3 });
    expect(listboxKey('PageUp', 4, 5000, 9)).toEqual({ kind: 'move', to: 0 });
    expect(listboxKey('PageDown', 0, 50, 0)).toEqual({ kind: 'move', to: 1 }); // a page is at least one
  });

  it('activates from nowhere: Down the first, Up the last', () => {
    expect(listboxKey('ArrowDown', -1, 5, 3)).toEqual({ kind: 'move', to: 0 });
    expect(listboxKey('ArrowUp', -1, 5, 3)).toEqual({ kind: 'move', to: 4 });
    expect(listboxKey('PageDown', -1, 5, 3)).toEqual({ kind: 'move', to: 2 });
  });

  it('chooses with Enter and Space only when an option is active; other keys are not its own', () => {
    expect(listboxKey('Enter', 2, 5, 3)).toEqual({ kind: 'choose' });
    expect(listboxKey(' ', 2, 5, 3)).toEqual({ kind: 'choose' });
    expect(listboxKey('Enter', -1, 5, 3)).toBeNull();
    expect(listboxKey('Tab', 2, 5, 3)).toBeNull();
    expect(listboxKey('a', 2, 5, 3)).toBeNull();
    expect(listboxKey('ArrowDown', -1, 0, 3)).toBeNull(); // an empty list has nothing to move to
  });
});

describe('type-ahead', () => {
  const names = ['Acme', 'Beta', 'Bravo', 'Client 00010', 'Client 01234', 'client 2', 'Delta'];
  const label = (i: number) => names[i];

  it('finds the next option starting with the typed text, from the active one on', () => {
    expect(TypeAhead.find('b', -1, names.length, label)).toBe(1);
    expect(TypeAhead.find('b', 1, names.length, label)).toBe(2); // one letter: after the active one
    expect(TypeAhead.find('b', 2, names.length, label)).toBe(1); // wraps
    expect(TypeAhead.find('client 01', 3, names.length, label)).toBe(4);
    expect(TypeAhead.find('client 0', 3, names.length, label)).toBe(3); // a longer search keeps a match
    expect(TypeAhead.find('CLIENT 2', 0, names.length, label)).toBe(5); // case does not matter
    expect(TypeAhead.find('x', 0, names.length, label)).toBe(-1);
    expect(TypeAhead.find('cc', 3, names.length, label)).toBe(4); // the same letter again cycles
  });

  it('collects the characters typed close together, starting anew after a pause', () => {
    const t = new TypeAhead(500);
    expect(t.push('C', 1000)).toBe('c');
    expect(t.push('l', 1200)).toBe('cl');
    expect(t.typing(1300)).toBe(true);
    expect(t.push(' ', 1300)).toBe('cl ');
    expect(t.typing(1900)).toBe(false);
    expect(t.push('d', 1900)).toBe('d');
    t.reset();
    expect(t.typing(1901)).toBe(false);
  });

  it('takes printable characters without modifiers; Space only inside a search', () => {
    const k = (key: string, mods: Partial<KeyboardEvent> = {}) => ({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
    expect(isTypeAheadKey(k('a'))).toBe(true);
    expect(isTypeAheadKey(k('A'))).toBe(true);
    expect(isTypeAheadKey(k(' '))).toBe(false);
    expect(isTypeAheadKey(k(' '), true)).toBe(true);
    expect(isTypeAheadKey(k('a', { ctrlKey: true }))).toBe(false);
    expect(isTypeAheadKey(k('ArrowDown'))).toBe(false);
  });
});

describe('the virtualized list keeps its active row', () => {
  it('scrolls just enough to show a row', () => {
    // Rows of 44 px in a 440 px list scrolled to 880 (rows 20–29 shown).
    expect(scrollToShow(25, 44, 880, 440)).toBe(880);
    expect(scrollToShow(19, 44, 880, 440)).toBe(19 * 44);
    expect(scrollToShow(30, 44, 880, 440)).toBe(31 * 44 - 440);
    expect(scrollToShow(0, 44, 880, 440)).toBe(0);
  });

  it('renders the active row even outside the visible window', () => {
    expect(renderedRows({ start: 10, end: 14 }, 12, 100)).toEqual([10, 11, 12, 13]);
    expect(renderedRows({ start: 10, end: 14 }, 90, 100)).toEqual([10, 11, 12, 13, 90]);
    expect(renderedRows({ start: 10, end: 14 }, 2, 100)).toEqual([2, 10, 11, 12, 13]);
    expect(renderedRows({ start: 10, end: 14 }, -1, 100)).toEqual([10, 11, 12, 13]);
    expect(renderedRows({ start: 0, end: 0 }, 5, 3)).toEqual([]);
  });
});
