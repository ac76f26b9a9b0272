/** A size for people: `512 B`, `1.5 KiB`, `256.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const namedEscapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Whether a code point must not reach a terminal as is: C0 controls (newline and ESC included),
 * DEL, C1 controls (0x9b is CSI on some terminals) and the bidirectional overrides and isolates
 * that reorder what is shown.
 */
function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * Text from a registry or an archive (tags, titles, annotations, error bodies, entry names) as
 * one printable line: control characters are shown as escapes (`\n`, `\x1b`, `\u202e`), so a
 * value can neither forge an output line nor send a sequence to the terminal.
 */
export function escapeControl(text: string): string {
  let escaped = '';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (!isUnsafe(code)) escaped += character;
    else if (namedEscapes[character]) escaped += namedEscapes[character];
    else if (code <= 0xff) escaped += `\\x${code.toString(16).padStart(2, '0')}`;
    else escaped += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return escaped;
}
