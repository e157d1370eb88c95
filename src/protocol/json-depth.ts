// How deep a JSON text nests, read in one pass (strings skipped, escapes honoured), so that
// attacker-sized texts can be refused before a parser recurses into them: a body of a million
// `[` is a clear error, not a stack overflow. The HTTP doors check bodies with it; the OTLP
// mapping checks JSON arguments inside span attributes.

/** Whether `text` nests arrays and objects deeper than `max`; stops reading at the first level past it. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
