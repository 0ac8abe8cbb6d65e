/** Characters of one string value shown before it is cut. */
export const STRING_PREVIEW_CHARS = 2000;
/** Characters of a whole value shown before it is cut. */
export const VALUE_PREVIEW_CHARS = 20_000;

/**
 * A value as indented JSON for the panel, bounded: long strings and long results are cut with a
 * note of what was left out, so an event with a megabyte payload costs the panel a page of
 * text, not a megabyte of DOM. Never throws: bigints, cycles and functions (possible in rows an
 * app wrote itself) are named instead. The text goes into the page as text, never as HTML.
 *
 * @example
 * jsonText({ title: 'x'.repeat(5000) }); // '{\n  "title": "xxx…(3000 more characters)"\n}'
 */
export function jsonText(
  value: unknown,
  { maxChars = VALUE_PREVIEW_CHARS, maxStringChars = STRING_PREVIEW_CHARS } = {},
): string {
  const ancestors: unknown[] = [];
  let text: string | undefined;
  try {
    text = JSON.stringify(
      value,
      function (this: unknown, _key, current: unknown) {
        // `this` is the object holding `current`: drop the ancestors we have come back out of.
        while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
        if (typeof current === 'bigint') return `${current}n`;
        if (typeof current === 'function') return '[function]';
        if (typeof current === 'symbol') return current.toString();
        if (typeof current === 'string' && current.length > maxStringChars) {
          return `${current.slice(0, maxStringChars)}…(${current.length - maxStringChars} more characters)`;
        }
        if (typeof current === 'object' && current !== null) {
          if (ancestors.includes(current)) return '[cycle]';
          ancestors.push(current);
        }
        return current;
      },
      2,
    );
  } catch (error) {
    return `[not shown: ${error instanceof Error ? error.message : String(error)}]`;
  }
  if (text === undefined) return String(value);
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n…(${text.length - maxChars} more characters)`;
}
