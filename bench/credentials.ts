/** The Administrator the bench's service starts with, and the Basic header the load sends. */
export const ADMIN = { username: 'admin', password: 'bench-admin-pass' };

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
