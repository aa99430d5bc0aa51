// Two passes over the header text that JSON.parse cannot do for us: a nesting limit checked before
// parsing (some engines' JSON.parse recurse), and duplicate keys, which JSON.parse silently resolves
// to the last one. Both skip strings with their escapes, so brackets and quotes inside names are inert.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** Index of the closing quote of the string opening at `start` (or text.length if unterminated). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    i += c === BACKSLASH ? 2 : 1;
  }
  return text.length;
}

/** The deepest nesting of objects and arrays in `text` (valid JSON or not). */
export function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) max = Math.max(max, ++depth);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return max;
}

/** A key that appears twice in one object; `parent` is the enclosing top-level key (null at the top). */
export interface DuplicateKey {
  parent: string | null;
  key: string;
}

interface Frame {
  /** Keys seen so far; null for arrays and for objects below depth 2, which no valid header has. */
  keys: Set<string> | null;
  expectKey: boolean;
  /** The key this object is the value of, for objects at depth 2. */
  name: string | null;
  lastKey: string | null;
}

/**
 * The first key repeated within the top-level object or within one of its member objects.
 * `text` must be valid JSON (JSON.parse accepted it).
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i, end + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return { parent: top.name, key };
        top.keys.add(key);
        top.expectKey = false;
        top.lastKey = key;
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      const tracked = stack.length < 2;
      stack.push({
        keys: tracked ? new Set() : null,
        expectKey: true,
        name: top ? top.lastKey : null,
        lastKey: null,
      });
    } else if (c === OPEN_ARRAY) {
      stack.push({ keys: null, expectKey: false, name: null, lastKey: null });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA && top?.keys) {
      top.expectKey = true;
    }
  }
  return null;
}
