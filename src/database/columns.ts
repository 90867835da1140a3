import { ValueTransformer } from 'typeorm';

/** A BIGINT column read as a number: PostgreSQL hands BIGINTs back as strings, SQLite as numbers. */
const bigintNumber = (): ValueTransformer => ({
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
});

/** A BIGINT column of epoch milliseconds. */
export const epochMillis: ValueTransformer = bigintNumber();

/** A BIGINT column of epoch seconds (a JWT's `iat` and the like). */
export const epochSeconds: ValueTransformer = bigintNumber();
