/**
 * A change another instance must hear of, so that it drops what it cached. Announced after the
 * change is committed.
 */
export type Change =
  /** Token configurations; without names, every one (a batch too large to name). */
  | { kind: 'configs'; names?: string[] }
  /** A user's password, type, flag or existence: its cached user and verified credentials. */
  | { kind: 'user'; username: string }
  /** A revoked jti or a cut-off: the revocation snapshot. */
  | { kind: 'revocations' }
  /** Never announced: the bus lost its connection and announcements may have been missed. */
  | { kind: 'reset' };

export type ChangeListener = (change: Change) => void;

/**
 * Tells every instance of a fleet about changes: the in-process default for one instance, a
 * PostgreSQL LISTEN/NOTIFY or a Redis pub/sub one for several. A host may provide its own under
 * CHANGE_BUS.
 */
export interface ChangeBus {
  /** Announces `change` to every instance, this one included. Never rejects. */
  publish(change: Exclude<Change, { kind: 'reset' }>): Promise<void>;
  /** Calls `listener` for every change heard; answers the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
}

export const CHANGE_BUS = Symbol('CHANGE_BUS');

/** A change as sent over the wire; undefined for anything else. */
export function parseChange(text: string): Change | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value.kind === 'revocations') return { kind: 'revocations' };
    if (value.kind === 'user' && typeof value.username === 'string')
      return { kind: 'user', username: value.username };
    if (value.kind === 'configs') {
      const names = value.names;
      if (names === undefined) return { kind: 'configs' };
      if (Array.isArray(names) && names.every((name) => typeof name === 'string'))
        return { kind: 'configs', names: names as string[] };
    }
  } catch {
    // Not ours.
  }
  return undefined;
}

/** PostgreSQL refuses NOTIFY payloads from 8000 bytes: a batch too long to name drops every configuration. */
const MAX_PAYLOAD = 7000;

export function serializeChange(change: Change): string {
  const text = JSON.stringify(change);
  return text.length <= MAX_PAYLOAD ? text : JSON.stringify({ kind: change.kind });
}
