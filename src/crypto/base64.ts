/**
 * Strict base64 (standard alphabet, padding optional): undefined unless the text is exactly the encoding of some
 * bytes. Buffer.from(…, 'base64') alone skips junk characters, so a malformed hash would pass unnoticed.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(bare, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === bare ? bytes : undefined;
}
