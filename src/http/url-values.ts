/** Go's url.QueryEscape: only A–Z a–z 0–9 - _ . ~ stay; a space becomes '+'. */
export const goQueryEscape = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

/** Go's url.Values.Encode: keys sorted (byte order), each key's values in order, each escaped. */
export function encodeValues(values: URLSearchParams | Record<string, string>): string {
  const v = values instanceof URLSearchParams ? values : new URLSearchParams(values);
  const keys = [...new Set(v.keys())].sort();
  return keys.flatMap((k) => v.getAll(k).map((x) => `${goQueryEscape(k)}=${goQueryEscape(x)}`)).join('&');
}
