/**
 * Where a page of the audit trail ends: the last event's instant and id, as an opaque token
 * (base64url of `at.id`). The next page holds the events after it in the trail's order.
 */
export interface AuditCursor {
  at: number;
  id: number;
}

const ENCODED = /^[A-Za-z0-9_-]{3,44}$/;
const DECODED = /^(\d{1,16})\.(\d{1,16})$/;

export function encodeCursor({ at, id }: AuditCursor): string {
  return Buffer.from(`${at}.${id}`).toString('base64url');
}

/** The cursor `text` stands for, or undefined when it is not one this service gave out. */
export function decodeCursor(text: string): AuditCursor | undefined {
  if (!ENCODED.test(text)) return undefined;
  const match = DECODED.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match) return undefined;
  const at = Number(match[1]);
  const id = Number(match[2]);
  return Number.isSafeInteger(at) && Number.isSafeInteger(id) ? { at, id } : undefined;
}
