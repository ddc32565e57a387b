// "Start from a preset": the edits a preset and variant make. The presets themselves (hosts,
// ports, what to do at the provider) come from the core (`list_presets`); nothing here decides
// what is valid.

import type { Preset } from './bindings/Preset';

/** The preset's settings with the chosen variant's (default: the first) laid over them. */
export function presetEdits(preset: Preset, variantId?: string): Record<string, string> {
  const variant = preset.variants.find((v) => v.id === variantId) ?? preset.variants[0];
  const edits: Record<string, string> = {};
  for (const [k, v] of Object.entries(preset.settings)) if (v !== undefined) edits[k] = v;
  for (const [k, v] of Object.entries(variant?.settings ?? {})) if (v !== undefined) edits[k] = v;
  return edits;
}
