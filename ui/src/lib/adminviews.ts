// Small pure helpers of the Templates and Do-Not-Email views. No DOM, no backend.

/** A user type in words: the built-in ones by name, others as written. */
export function typeLabel(kind: string): string {
  if (kind === 'power') return 'Power user';
  if (kind === 'standard') return 'Standard user';
  return kind;
}

/** The entries containing `search` (case-insensitive): only what is shown, the list is unchanged. */
export function filterEntries(entries: readonly string[], search: string): string[] {
  const needle = search.trim().toLowerCase();
  return needle === '' ? [...entries] : entries.filter((e) => e.toLowerCase().includes(needle));
}

/** "12 of 100 mails in the last 24 hours" / "12 mails in the last 24 hours (no limit)". */
export function countText(sent: number, max: number): string {
  const mails = sent === 1 ? 'mail' : 'mails';
  return max > 0 ? `${sent} of ${max} ${mails} in the last 24 hours` : `${sent} ${mails} in the last 24 hours (no daily limit)`;
}

export const IGNORE_CHOICES = [
  { value: 'none', label: 'Never', hint: 'The list always applies.' },
  { value: 'priority', label: 'For priority mails', hint: 'Mails sent with postdesk send --priority may go to listed addresses.' },
  { value: 'all', label: 'For all mails', hint: 'The list is kept but not applied.' },
] as const;
