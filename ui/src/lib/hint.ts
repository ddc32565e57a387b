/** One piece of a hint: plain text, or a command/key the admin types (between backticks). */
export interface HintPart {
  text: string;
  code: boolean;
}

/** Splits a hint on backticks; an unpaired backtick stays as it is. */
export function hintParts(hint: string): HintPart[] {
  const pieces = hint.split('`');
  if (pieces.length % 2 === 0) return [{ text: hint, code: false }];
  return pieces.map((text, i) => ({ text, code: i % 2 === 1 })).filter((p) => p.text !== '');
}
