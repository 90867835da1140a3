/** The origin of a URL as browsers write it in `Origin`, or undefined for an opaque (`null`) or malformed one. */
export function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * Reads CORS_ORIGINS into origins as browsers send them (lower-case scheme and host, no default
 * port, no trailing slash), the one reading that both CORS and the cross-site check use.
 * Undefined when an entry is not a bare http(s) origin (a path, a query or credentials in it).
 */
export function parseCorsOrigins(value: string): string[] | undefined {
  const origins = value.split(',').map((entry) => {
    const text = entry.trim();
    if (!/^https?:\/\//i.test(text)) return undefined;
    try {
      const url = new URL(text);
      const bare =
        url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
      return bare && !text.includes('?') && !text.includes('#') ? url.origin : undefined;
    } catch {
      return undefined;
    }
  });
  return origins.every((origin) => origin !== undefined) ? [...new Set(origins)] : undefined;
}
